// SPDX-License-Identifier: MIT
// main.js: the boundary action's main step: start.sh jails the rest of the job.
'use strict';
require('./run.js').run('start.sh');
