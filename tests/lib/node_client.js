// SPDX-License-Identifier: MIT
//
// node_client.js: node's own HTTP clients through boundary, run inside the jail. Names are not
// resolved (the jail's DNS is not there yet): every connection goes to $CLIENT_ADDR, the name
// travels in SNI and Host. The CA comes from NODE_EXTRA_CA_CERTS, as boundary sets it.
//
//   node node_client.js agent NAME PORT N    N sequential GETs of /echo/node over one
//                                            https.Agent({keepAlive: true}): prints
//                                            "ok K" (200s whose echo is right), "sockets S"
//   node node_client.js fetch URL [FIELD VALUE]
//                                            fetch(URL), with the header FIELD: VALUE if given:
//                                            "status N" and the body (fetch has no
//                                            resolver option: dns.lookup answers $CLIENT_ADDR)
'use strict';
const dns = require('dns');
const https = require('https');
const net = require('net');

const addr = process.env.CLIENT_ADDR;
const realLookup = dns.lookup;
dns.lookup = function (host, ...rest) {
	return realLookup.call(dns, net.isIP(host) || host === 'localhost' ? host : addr, ...rest);
};
const [cmd, a1, a2, a3] = process.argv.slice(2);

function get(agent, name, port, i) {
	return new Promise((resolve) => {
		const req = https.request({
			host: addr, port: Number(port), servername: name, agent,
			path: '/echo/node?i=' + i, headers: {Host: name + ':' + port},
		}, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				let good = false;
				try {
					good = res.statusCode === 200 && JSON.parse(body).query === 'i=' + i;
				} catch (e) { /* not JSON: not good */ }
				resolve({good, fresh: !req.reusedSocket});
			});
		});
		req.on('error', (e) => { console.log('error ' + e.message); resolve({good: false, fresh: true}); });
		req.end();
	});
}

async function agentCmd(name, port, n) {
	const agent = new https.Agent({keepAlive: true, maxSockets: 1});
	let ok = 0, sockets = 0;
	for (let i = 0; i < n; i++) {
		const r = await get(agent, name, port, i);
		if (r.good) ok++;
		if (r.fresh) sockets++;
	}
	agent.destroy();
	console.log('ok ' + ok);
	console.log('sockets ' + sockets);
}

async function fetchCmd(url, field, value) {
	try {
		const r = await fetch(url, field ? {headers: {[field]: value}} : {});
		console.log('status ' + r.status);
		console.log(await r.text());
	} catch (e) {
		console.log('error ' + e.message + (e.cause ? ': ' + e.cause.message : ''));
	}
}

if (cmd === 'agent') agentCmd(a1, a2, Number(a3));
else if (cmd === 'fetch') fetchCmd(a1, a2, a3);
