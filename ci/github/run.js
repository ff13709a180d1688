// SPDX-License-Identifier: MIT
//
// run.js: what the boundary action's main.js and post.js share: run one of the shell scripts
// beside it with the action's inputs as BOUNDARY_ACTION_* variables, and exit with its status.
// The runner hands inputs to a JavaScript action as INPUT_<NAME> with the name upper-cased and
// its dashes kept (INPUT_ALLOWED-ENDPOINTS), which a shell cannot read: they are renamed here.
// No dependency beyond Node's own modules, so the action needs no npm install and no build.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');

// input name -> the variable the scripts read
const INPUTS = {
	mode: 'MODE',
	allow: 'ALLOW',
	'allowed-endpoints': 'ALLOWED_ENDPOINTS',
	'runner-endpoints': 'RUNNER_ENDPOINTS',
	secrets: 'SECRETS',
	'audit-log': 'AUDIT_LOG',
	cgroup: 'CGROUP',
};

function run(script) {
	const env = Object.assign({}, process.env);
	for (const [input, name] of Object.entries(INPUTS)) {
		const v = process.env['INPUT_' + input.toUpperCase()];
		if (v !== undefined && v !== '')
			env['BOUNDARY_ACTION_' + name] = v;
	}
	const r = spawnSync('bash', [path.join(__dirname, script)], { stdio: 'inherit', env });
	if (r.error) {
		console.log(`::error title=boundary::cannot run ${script}: ${r.error.message}`);
		process.exit(1);
	}
	process.exit(r.status === null ? 1 : r.status);
}

module.exports = { run, INPUTS };
