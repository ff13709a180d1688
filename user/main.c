// SPDX-License-Identifier: MIT
/* main.c: placeholder until the command line lands. */
#include <stdio.h>

int main(void)
{
	puts("boundary " BOUNDARY_VERSION);
	return 0;
}
