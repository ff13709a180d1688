// SPDX-License-Identifier: MIT
#include "rules/rules.h"
