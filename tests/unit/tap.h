/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tap.h -- a tiny Test Anything Protocol emitter for the unit tests. */

#ifndef TAP_H
#define TAP_H

#include <stddef.h>

void	 tap_ok(int ok, const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	 tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	 tap_done(void);
char	*tap_copy(const void *p, size_t n);
char	*tap_read_file(const char *path, size_t *len);

#define ok(c, ...)	tap_ok(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b, ...) do {						\
	long long _a = (a), _b = (b);					\
	tap_ok(_a == _b, __FILE__, __LINE__, __VA_ARGS__);		\
	if (_a != _b) tap_diag("  got %lld, want %lld", _a, _b);	\
} while (0)
#define is_str(a, b, ...) do {						\
	const char *_a = (a), *_b = (b);				\
	int _ok = _a && _b && strcmp(_a, _b) == 0;			\
	tap_ok(_ok, __FILE__, __LINE__, __VA_ARGS__);			\
	if (!_ok) tap_diag("  got '%s', want '%s'",			\
	    _a ? _a : "(null)", _b ? _b : "(null)");			\
} while (0)

#endif
