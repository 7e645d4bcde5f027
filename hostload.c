/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hostload.c -- this node's free memory and idle CPU, for placement. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

/* MemAvailable in MB. */
double
hostload_free_ram_mb(void)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	char line[256];
	double kb = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
			break;
	fclose(fp);
	return kb / 1024.0;
}

static double
total_bogomips(void)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[256];
	double v, sum = 0;

	if (fp != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strncasecmp(line, "bogomips", 8) == 0 &&
			    sscanf(strchr(line, ':') ? strchr(line, ':') + 1 :
			    "", "%lf", &v) == 1)
				sum += v;
		fclose(fp);
	}
	if (sum == 0)
		sum = 1000.0 * (double)sysconf(_SC_NPROCESSORS_ONLN);
	return sum;
}

/*
 * Idle CPU capacity since the last call, in bogomips (upstream's unit):
 * the idle share of the CPU times all the CPUs' bogomips.
 */
double
hostload_idle_cpu(void)
{
	static unsigned long long last_idle, last_total;
	unsigned long long v[10] = { 0 }, idle, total = 0;
	FILE *fp = fopen("/proc/stat", "r");
	double share = 1.0;
	int i;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	for (i = 0; i < 8; i++)
		total += v[i];
	idle = v[3] + v[4];
	if (last_total != 0 && total > last_total)
		share = (double)(idle - last_idle) / (double)(total -
		    last_total);
	last_idle = idle;
	last_total = total;
	return share * total_bogomips();
}
