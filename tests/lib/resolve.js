// SPDX-License-Identifier: MIT
//
// resolve.js: Node's two resolvers, run inside the jail by tests/e2e/resolvers.t: c-ares
// (dns.resolve*, which reads /etc/resolv.conf and speaks DNS itself) and getaddrinfo
// (dns.lookup, which http.get uses by default). One line per result:
//
//   node resolve.js resolve4 NAME | resolve6 NAME    c-ares: "addr ADDR" per address
//   node resolve.js lookup NAME 0|4|6                getaddrinfo: "addr ADDR" per address
//   node resolve.js get NAME PORT PATH lookup|cares  http.get("http://NAME:PORT/PATH"), the
//                                                    name resolved by dns.lookup or by c-ares:
//                                                    "peer ADDR" (the socket's peer), then
//                                                    "status N" and "body BODY"
//
// Errors print "error CODE" and exit 1.
'use strict';
const dns = require('dns');
const http = require('http');

const [cmd, name, a2, a3, a4] = process.argv.slice(2);

function fail(e) {
	console.log('error ' + (e.code || e.message));
	process.exit(1);
}

function print(addrs) {
	for (const a of addrs)
		console.log('addr ' + (typeof a === 'string' ? a : a.address));
}

// A lookup function for http.get that asks c-ares (A, then AAAA) instead of getaddrinfo.
function caresLookup(host, opts, cb) {
	dns.resolve4(host, (err, v4) => {
		if (!err && v4.length)
			return opts.all ? cb(null, [{address: v4[0], family: 4}]) : cb(null, v4[0], 4);
		dns.resolve6(host, (err6, v6) => {
			if (err6 || !v6.length)
				return cb(err6 || err);
			return opts.all ? cb(null, [{address: v6[0], family: 6}]) : cb(null, v6[0], 6);
		});
	});
}

function get() {
	const lookup = a4 === 'cares' ? caresLookup : dns.lookup;
	const req = http.get({host: name, port: Number(a2), path: a3, lookup, timeout: 20000}, (res) => {
		let body = '';
		console.log('peer ' + res.socket.remoteAddress);
		res.setEncoding('utf8');
		res.on('data', (d) => { body += d; });
		res.on('end', () => {
			console.log('status ' + res.statusCode);
			console.log('body ' + body.replace(/\n/g, ' '));
		});
	});
	req.on('timeout', () => req.destroy(new Error('timeout')));
	req.on('error', fail);
}

switch (cmd) {
case 'resolve4':
	dns.promises.resolve4(name).then(print, fail);
	break;
case 'resolve6':
	dns.promises.resolve6(name).then(print, fail);
	break;
case 'lookup':
	dns.promises.lookup(name, {family: Number(a2), all: true}).then(print, fail);
	break;
case 'get':
	get();
	break;
default:
	console.error('usage: node resolve.js resolve4|resolve6 NAME | lookup NAME 0|4|6 |' +
		' get NAME PORT PATH lookup|cares');
	process.exit(2);
}
