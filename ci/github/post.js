// SPDX-License-Identifier: MIT
// post.js: the boundary action's post step (post-if: always()): stop.sh detaches boundary and
// writes the summary to $GITHUB_STEP_SUMMARY.
'use strict';
require('./run.js').run('stop.sh');
