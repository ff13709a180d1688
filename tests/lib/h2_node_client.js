// SPDX-License-Identifier: MIT
//
// h2_node_client.js: node's own http2 module through boundary, run inside the jail
// (tests/e2e/http2.t). It trusts what node trusts plus NODE_EXTRA_CA_CERTS, as boundary sets
// it; names resolve through the jail's DNS.
//
//   node h2_node_client.js URL     one GET of URL (https:// over TLS with ALPN h2, http:// as h2c
//                                  by prior knowledge) on an http2 session; prints
//                                  "ALPN: PROTO", "STATUS: N" and "BODY: BODY" (newlines as \n),
//                                  or "ERROR: WHY" (exit status 1)
'use strict';
const http2 = require('http2');

const url = new URL(process.argv[2]);
const fail = (e) => {
	console.log('ERROR: ' + (e && e.message ? e.message : e));
	process.exit(1);
};
const session = http2.connect(url.origin);
session.on('error', fail);
session.setTimeout(30000, () => fail('timed out'));
const req = session.request({':method': 'GET', ':path': url.pathname + url.search});
let status = '';
let body = '';
req.setEncoding('utf8');
req.on('response', (h) => {
	status = h[':status'];
});
req.on('data', (d) => {
	body += d;
});
req.on('error', fail);
req.on('end', () => {
	console.log('ALPN: ' + (session.alpnProtocol || ''));
	console.log('STATUS: ' + status);
	console.log('BODY: ' + body.replace(/\n/g, '\\n'));
	session.close();
});
