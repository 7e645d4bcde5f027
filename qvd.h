/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qvd.h -- the whole system: shared structs, limits and cross-file APIs. */

#ifndef QVD_H
#define QVD_H

#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define QVD_VERSION	"3.5.0-c1"

#define PRINTFLIKE(f, a)	__attribute__((format(printf, f, a)))
#define NORETURN		__attribute__((noreturn))
#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* xmalloc.c -- allocation that dies on failure (daemons and CLIs only) */

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) PRINTFLIKE(1, 2);
void	 freezero(void *, size_t);

/* ------------------------------------------------------------------ */
/* str.c -- bounded string and number helpers */

int	 str_copy(char *dst, const char *src, size_t size);
int	 str_fmt(char *dst, size_t size, const char *fmt, ...) PRINTFLIKE(3, 4);
int	 str_vfmt(char *dst, size_t size, const char *fmt, va_list ap);
char	*str_trim(char *);
int	 str_has_prefix(const char *, const char *);
int	 str_eq_nocase(const char *, const char *);
void	 str_lower(char *);
#define STR_CLIP_MAX	48
const char *str_clip(const char *);
int	 num_parse(const char *s, long long min, long long max, long long *out,
	    const char **errstr);
int	 bool_parse(const char *s, int *out);
int	 size_parse(const char *s, unsigned long long *out);
int	 str_wildcard_match(const char *pattern, const char *s);
void	 wipe(void *, size_t);
int	 str_hex(const void *, size_t n, char *out, size_t outsz);
int	 hex_digit(int c);

/* ------------------------------------------------------------------ */
/* buf.c -- growable byte buffer with an upper bound */

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0 = BUF_DEFAULT_MAX */
};
#define BUF_DEFAULT_MAX	(64u * 1024 * 1024)

int	 buf_add(struct buf *, const void *, size_t);
int	 buf_adds(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...) PRINTFLIKE(2, 3);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
const char *buf_str(const struct buf *);

/* ------------------------------------------------------------------ */
/* files.c -- rm -rf (one file system), mkdir -p, is_dir, VM run dirs */

int	 fs_remove_tree(const char *path);
int	 fs_mkdirs(const char *path, mode_t mode);
int	 fs_is_dir(const char *path);
void	 fs_each_vm_dir(const char *dir, void (*fn)(long long));

/* ------------------------------------------------------------------ */
/* base64.c -- RFC 4648 base64 */

size_t	 base64_encode(const void *in, size_t len, char *out, size_t outsz,
	    int pad);
int	 base64_decode(const char *in, size_t len, void *out, size_t outsz,
	    size_t *outlen);

/* ------------------------------------------------------------------ */
/* log.c -- log.level, log.filename, syslog, stderr in the foreground */

enum log_level {
	LVL_ALL = 0, LVL_DEBUG, LVL_INFO, LVL_WARN, LVL_ERROR, LVL_FATAL,
	LVL_OFF
};

int	 log_level_parse(const char *, enum log_level *);
int	 log_open(const char *ident, enum log_level, const char *filename,
	    int use_syslog, int use_stderr);
int	 log_open_from_conf(const char *ident, const char *file_key,
	    int use_stderr);
void	 log_close(void);
int	 log_fd(void);
int	 log_enabled(enum log_level);
void	 log_msg(enum log_level, const char *, ...) PRINTFLIKE(2, 3);
void	 log_vmsg(enum log_level, const char *, va_list);
#define log_debug(...)	log_msg(LVL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LVL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LVL_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LVL_ERROR, __VA_ARGS__)
#define log_fatal(...)	log_msg(LVL_FATAL, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* conf.c -- node.conf / vma.conf / client.conf and the configs overlay */

#define CONF_MAX_LINE		8192	/* longest line in a config file */
#define CONF_MAX_KEY		256
#define CONF_MAX_VALUE		32768
#define CONF_MAX_ERRORS		32
#define CONF_MAX_DEPTH		8	/* ${key} nesting */

enum conf_layer {		/* later layers win */
	CONF_DEFAULT = 0,
	CONF_FILE,		/* system file: /etc/qvd/node.conf */
	CONF_USER,		/* user file: ~/.qvd/client.conf */
	CONF_DB,		/* configs table (servers only) */
	CONF_CMDLINE,		/* environment and flags (client) */
	CONF_NLAYERS
};

enum conf_type {
	CT_STR = 0, CT_INT, CT_BOOL, CT_SIZE,
	CT_PATH,		/* absolute path */
	CT_RELPATH,		/* path, relative where its doc says */
	CT_CMD,			/* absolute path or a program in PATH */
	CT_ENUM,
	CT_LIST,		/* comma list of choices */
	CT_IP,			/* IPv4 address */
	CT_NETMASK,		/* dotted or a prefix length */
	CT_BIND,		/* "*" or an IP address */
	CT_IPLIST,		/* comma list of IP addresses */
	CT_HOST,		/* host name or IP address */
	CT_IFNAME,		/* network interface name */
	CT_UMASK,		/* octal, 0 to 0777 */
	CT_MAC3,		/* three bytes of a MAC address */
	CT_GROUP
};

struct conf_default {
	const char	*key;		/* CT_GROUP: group title */
	const char	*value;		/* NULL: no default */
	enum conf_type	 type;
	long long	 min, max;	/* CT_INT range */
	const char	*choices;	/* CT_ENUM, CT_LIST: "a|b|c", any case */
	const char	*doc;
	int		 empty_ok;	/* "" means none, though a default is */
};

extern const struct conf_default conf_defaults[];
extern const size_t conf_ndefaults;

struct conf_errors {
	int	 count;
	char	 msg[CONF_MAX_ERRORS][256];
};

void	 conf_init(void);
void	 conf_free(void);
int	 conf_load_file(const char *path, enum conf_layer,
	    struct conf_errors *);
int	 conf_parse_buffer(const char *name, const char *text, size_t len,
	    enum conf_layer, struct conf_errors *);
void	 conf_set(enum conf_layer, const char *key, const char *value);
void	 conf_clear_layer(enum conf_layer);
int	 conf_file_only(const char *key);
const char *conf_get(const char *key);
const char *conf_get_raw(const char *key, enum conf_layer *from);
int	 conf_get_int(const char *key, long long min, long long max,
	    long long *out);
int	 conf_get_bool(const char *key, int *out);
int	 conf_get_size(const char *key, unsigned long long *out);
long long conf_int(const char *key, long long dflt);
int	 conf_bool(const char *key);
int	 conf_check(struct conf_errors *);
int	 conf_check_value(const char *key, const char *value, char *err,
	    size_t errsz);
int	 conf_expand(const char *in, char *out, size_t outsz);
const struct conf_default *conf_default_find(const char *key);
const char *conf_suggest(const char *key);
int	 conf_is_internal(const char *key);
int	 conf_is_secret(const char *key);
void	 conf_foreach(void (*fn)(const char *key, const char *value,
	    enum conf_layer, void *), void *arg);
const char *conf_error(void);
int	 conf_errors_print(const struct conf_errors *, FILE *,
	    const char *prog);
const char *conf_path_for(const char *dflt, const char *cmdline);
int	 conf_load_or_die(const char *prog, const char *path, int required);
const char *conf_load_checked(const char *prog, const char *dflt,
	    const char *cmdline);

/* ------------------------------------------------------------------ */
/* json.c -- bounded RFC 8259 parser (caller-owned tokens) and emitter */

#define JSON_MAX_DEPTH		64
#define JSON_MAX_TOKENS		65536

enum json_type {
	JSON_NONE = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER,
	JSON_TRUE, JSON_FALSE, JSON_NULL
};

struct json_tok {
	enum json_type	type;
	int		start;		/* offset of first byte */
	int		end;		/* offset past last byte */
	int		size;		/* children (pairs count once) */
	int		parent;		/* index, -1 at top */
	int		next;		/* index past this token's subtree */
};

#define JSON_ERR_INVALID	(-1)
#define JSON_ERR_PARTIAL	(-2)
#define JSON_ERR_NOMEM		(-3)	/* more tokens than given */
#define JSON_ERR_DEPTH		(-4)

int	 json_parse(const char *js, size_t len, struct json_tok *toks,
	    int ntoks);
int	 json_obj_get(const char *js, const struct json_tok *, int ntoks,
	    int obj, const char *key);
int	 json_arr_get(const struct json_tok *, int ntoks, int arr, int n);
int	 json_str(const char *js, const struct json_tok *, char *out,
	    size_t outsz, size_t *outlen);
int	 json_int(const char *js, const struct json_tok *, long long min,
	    long long max, long long *out);
int	 json_double(const char *js, const struct json_tok *, double *out);
int	 json_tok_eq(const char *js, const struct json_tok *, const char *s);

struct json_out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 overflow;
	int	 depth;
	uint8_t	 first[JSON_MAX_DEPTH];	/* no element yet at this level */
	uint8_t	 after_key;
};

void	 json_out_init(struct json_out *, char *buf, size_t cap);
int	 json_out_ok(const struct json_out *);
int	 json_out_end_line(struct json_out *);
void	 json_begin_obj(struct json_out *);
void	 json_end_obj(struct json_out *);
void	 json_begin_arr(struct json_out *);
void	 json_end_arr(struct json_out *);
void	 json_key(struct json_out *, const char *);
void	 json_emit_str(struct json_out *, const char *);
void	 json_emit_strn(struct json_out *, const char *, size_t);
void	 json_emit_int(struct json_out *, long long);
void	 json_emit_double(struct json_out *, double);
void	 json_emit_bool(struct json_out *, int);
void	 json_emit_null(struct json_out *);
void	 json_emit_raw(struct json_out *, const char *);
int	 json_escape(const char *in, size_t len, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* http.c -- incremental HTTP/1.1 parser and writer, query and auth */

#define HTTP_MAX_REQUEST_LINE	8192
#define HTTP_MAX_HEADER_BYTES	16384
#define HTTP_MAX_HEADERS	64
#define HTTP_MAX_BODY		(1024 * 1024)
#define HTTP_MAX_METHOD		16

struct http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct http_msg {
	/* request */
	const char	*method;
	size_t		 method_len;
	const char	*target;	/* path?query, not decoded */
	size_t		 target_len;
	/* response */
	int		 status;
	const char	*reason;
	size_t		 reason_len;
	/* both */
	int		 minor_version;	/* HTTP/1.x */
	struct http_header headers[HTTP_MAX_HEADERS];
	int		 nheaders;
	int		 error_status;	/* status to answer a bad request */
};

#define HTTP_PARTIAL	(-2)	/* http_parse_*: more bytes needed */

int	 http_parse_request(const char *buf, size_t len, struct http_msg *);
int	 http_parse_response(const char *buf, size_t len, struct http_msg *);
const char *http_header(const struct http_msg *, const char *name,
	    size_t *len);
int	 http_header_copy(const struct http_msg *, const char *name,
	    char *out, size_t outsz);
int	 http_header_has_token(const struct http_msg *, const char *name,
	    const char *token);
int	 http_keeps_alive(const struct http_msg *);
long long http_content_length(const struct http_msg *);
int	 http_path(const struct http_msg *, char *out, size_t outsz);
const char *http_query(const struct http_msg *, size_t *len);
int	 http_query_next(const char **cursor, const char *end, char *key,
	    size_t keysz, char *val, size_t valsz);
int	 http_query_get(const char *q, size_t qlen, const char *key,
	    char *val, size_t valsz);
int	 http_url_decode(const char *in, size_t len, char *out, size_t outsz,
	    int plus_is_space);
int	 http_url_encode(const char *in, char *out, size_t outsz);
int	 http_basic_auth(const char *value, size_t len, char *user,
	    size_t usersz, char *pass, size_t passsz);
const char *http_reason(int status);
int	 http_format_head(char *out, size_t outsz, int status,
	    const char *extra_headers, const char *ctype, long long clen);

/* ------------------------------------------------------------------ */
/* tls.c -- OpenSSL contexts for both ends (TLS 1.2+) */

struct ssl_ctx_st;
struct ssl_st;

struct tls_files {
	const char	*cert_pem;	/* PEM text or NULL */
	const char	*key_pem;
	const char	*ca_pem;
	const char	*cert_file;	/* or file names */
	const char	*key_file;
	const char	*ca_file;
	const char	*ca_dir;
	const char	*ciphers;
	int		 verify_peer;
	int		 require_peer_cert;
};

struct ssl_ctx_st *tls_server_ctx(const struct tls_files *, char *err,
	    size_t errsz);
struct ssl_ctx_st *tls_client_ctx(const struct tls_files *, char *err,
	    size_t errsz);
int	 tls_key_matches_cert(const char *key_pem, const char *cert_pem,
	    char *err, size_t errsz);
int	 tls_make_self_signed(const char *cn, const char *san, int ec,
	    char **key_pem, char **cert_pem, char *err, size_t errsz);
const char *tls_error(void);
int	 tls_cert_describe(struct ssl_st *, char *out, size_t outsz);
int	 tls_cert_fingerprint(struct ssl_st *, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* conn.c -- a buffered stream over a socket, optionally TLS */

#define CONN_BUFSZ		(HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 4096)

struct conn {
	int		 fd;		/* non-blocking */
	struct ssl_st	*ssl;
	char		 rbuf[CONN_BUFSZ];
	size_t		 rlen;		/* bytes buffered */
	int		 timeout_ms;	/* per wait, -1 = none */
	long long	 deadline;	/* mono_ms() limit, 0 = none */
	int		 timed_out;
	int		 nowait;	/* CONN_AGAIN instead of waiting */
	short		 want;		/* then: POLLIN or POLLOUT */
	char		 err[160];
};

int	 conn_peer_gone(const struct conn *);
#define CONN_AGAIN	(-2)	/* non-waiting mode: poll for c->want */

void	 conn_init(struct conn *, int fd, int timeout_ms);
void	 conn_set_deadline(struct conn *, int ms_from_now);
int	 conn_tls_accept(struct conn *, struct ssl_ctx_st *);
int	 conn_tls_connect(struct conn *, struct ssl_ctx_st *,
	    const char *hostname, int verify_host);
int	 conn_fill(struct conn *);
int	 conn_read(struct conn *, void *, size_t);
int	 conn_write(struct conn *, const void *, size_t);
int	 conn_write_some(struct conn *, const void *, size_t);
int	 conn_printf(struct conn *, const char *, ...) PRINTFLIKE(2, 3);
void	 conn_consume(struct conn *, size_t);
void	 conn_close(struct conn *);
int	 conn_read_msg(struct conn *, struct http_msg *, int is_request);
int	 conn_read_body(struct conn *, size_t want, struct buf *);
int	 tcp_connect(const char *host, const char *port, int timeout_ms,
	    char *err, size_t errsz);
int	 tcp_listen(const char *addr, const char *port, int backlog,
	    char *err, size_t errsz);
int	 unix_connect(const char *path, int abstract);
int	 fd_nonblock(int fd, int on);
int	 fd_cloexec(int fd);
struct sockaddr_storage;
void	 tcp_peer(const struct sockaddr_storage *, unsigned char addr[16],
	    char *txt, size_t txtsz);

/* ------------------------------------------------------------------ */
/* throttle.c -- failed logins per (address, login) and per address,
 * shared with forked children */

#define THROTTLE_SLOTS		4096
#define THROTTLE_LOGIN		64	/* of a login, this much tells it */
#define THROTTLE_REMEMBER	4	/* wrong passwords recognised again */
#define THROTTLE_DIGEST		16

struct throttle_entry {		/* failed logins of one login at an address */
	unsigned char	 addr[16];	/* IPv4 mapped into IPv6 */
	char		 login[THROTTLE_LOGIN];	/* "": the address's own */
	unsigned char	 tried[THROTTLE_REMEMBER][THROTTLE_DIGEST];
	int		 next_tried;
	int		 used;
	int		 failures;
	long long	 window_start;	/* epoch seconds */
	long long	 blocked_until;
};

struct throttle {
	char			 lock;
	unsigned char		 salt[16];	/* of the tried passwords */
	struct throttle_entry	 entries[THROTTLE_SLOTS];
};

int	 throttle_init(struct throttle *);
struct throttle *throttle_new(void);
long long throttle_wait(struct throttle *, const unsigned char addr[16],
	    const char *login);
void	 throttle_failed(struct throttle *, const unsigned char addr[16],
	    const char *login, const char *password, const char *prefix,
	    const char *peer);

/* ------------------------------------------------------------------ */
/* clock.c -- monotonic and wall time */

long long mono_ms(void);
long long wall_ms(void);
void	 sleep_ms(int);
int	 fmt_utc(char *out, size_t outsz, long long epoch);
int	 fmt_local(char *out, size_t outsz, long long epoch);

/* ------------------------------------------------------------------ */
/* db.c -- libpq: connect, parameterised queries, retried transactions */

struct pg_conn;
struct pg_result;

#define DB_MAX_PARAMS		32

struct db {
	struct pg_conn	*pg;
	char		 conninfo_host[512];
	int		 backoff_ms;
	long long	 retry_at;	/* mono_ms() of the next reconnect */
	long long	 connected_ms;	/* mono_ms() of the last connect */
	unsigned	 generation;	/* connects so far: LISTEN again */
	char		 err[512];
	char		 sqlstate[6];
	long long	 nqueries;	/* statements sent, for benchmarks */
};

struct db *db_open(char *err, size_t errsz);
void	 db_close(struct db *);
int	 db_ensure(struct db *);
int	 db_recover(struct db *);
struct pg_result *db_query(struct db *, const char *sql, int nparams, ...);
struct pg_result *db_queryv(struct db *, const char *sql, int nparams,
	    const char *const *params);
int	 db_exec(struct db *, const char *sql, int nparams, ...);
long long db_exec_count(struct db *, const char *sql, int nparams, ...);
int	 db_begin(struct db *);
int	 db_commit(struct db *);
void	 db_rollback(struct db *);
int	 db_tx(struct db *, int (*fn)(struct db *, void *), void *arg);
int	 db_retryable(const struct db *);
int	 db_listen(struct db *, const char *channel);
int	 db_notify(struct db *, const char *channel);
int	 db_wait_notify(struct db *, int timeout_ms, char *chan,
	    size_t chansz);
int	 db_socket(struct db *);
int	 db_load_config(struct db *);
int	 db_schema_present(struct db *);
const char *db_error(const struct db *);
void	 db_clear(struct pg_result *);
int	 db_ntuples(const struct pg_result *);
const char *db_val(const struct pg_result *, int row, int col);
int	 db_isnull(const struct pg_result *, int row, int col);
long long db_int(const struct pg_result *, int row, int col);
const char *db_fmt_int(char buf[24], long long);

/* ------------------------------------------------------------------ */
/* schema.c (generated from schema.sql by tools/embed-sql.awk) */

extern const char *const qvd_schema_stmts[];	/* NULL-terminated */
extern const char *const qvd_schema_tables[];
extern const char *const qvd_schema_drops[];
#define QVD_SCHEMA_VERSION	"3.3.0"	/* upstream 3.5 keeps this too */

/* ------------------------------------------------------------------ */
/* pass.c -- password hashes (PBKDF2-HMAC-SHA256, upstream's legacy) */

#define PASS_MAX		1024	/* longest accepted password */
#define PASS_HASH_MAX		256
#define PASS_ITERATIONS		100000

int	 pass_hash(const char *password, char *out, size_t outsz);
int	 pass_verify(const char *password, const char *stored,
	    const char *legacy_salt);
int	 pass_legacy(const char *password, const char *salt, char *out,
	    size_t outsz);
int	 pass_random(char *out, size_t len, const char *alphabet);

/* ------------------------------------------------------------------ */
/* attime.c -- at(1) time specifications */

int	 attime_parse(const char *spec, time_t now, time_t *out, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* valid.c -- the syntax of addresses, names and paths admins type */

enum name_kind {
	NAME_LOGIN,		/* users.login */
	NAME_OBJECT,		/* OSFs, VMs and nodes */
	NAME_TAG		/* disk image tags and versions */
};

int	 valid_ipv4(const char *);
int	 valid_ip(const char *);
int	 valid_ip_list(const char *);
int	 valid_hostname(const char *);
int	 valid_host(const char *);
int	 valid_ifname(const char *);
int	 valid_umask(const char *);
int	 valid_mac_prefix(const char *);
int	 valid_path(const char *, int absolute);
int	 valid_name(enum name_kind, const char *what, const char *s,
	    char *err, size_t errsz);
const char *name_rule_doc(enum name_kind);

/* ------------------------------------------------------------------ */
/* ipnet.c -- IPv4 arithmetic of the VM network */

struct ipnet {
	uint32_t	 start;		/* first VM address (host order) */
	uint32_t	 mask;
	int		 prefix;
	uint32_t	 network;
	uint32_t	 broadcast;
	uint32_t	 gateway;	/* 0 if not configured */
};

int	 ip_parse(const char *, uint32_t *);
int	 ip_mask_parse(const char *, uint32_t *mask, int *prefix);
void	 ip_format(uint32_t, char out[16]);
int	 ipnet_from_conf(struct ipnet *, char *err, size_t errsz);
int	 ipnet_contains_vm(const struct ipnet *, uint32_t);
size_t	 ipnet_alloc(const struct ipnet *, uint32_t *used, size_t nused,
	    uint32_t *out, size_t want);
int	 ipnet_mac(uint32_t ip, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* lb.c -- the load balancer */

double	 lb_score(double ram, double cpu, long long nvms, double w_ram,
	    double w_cpu, double w_random);
int	 lb_pick_host(struct db *, long long *host_id, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* filter.c -- the administrable objects and -f key=value filters */

enum col_type {
	COL_TEXT, COL_INT, COL_BOOL, COL_TIME, COL_REAL,
	COL_YESNO,		/* a boolean shown as yes/no */
	COL_AGE,		/* seconds shown as HH:MM:SS */
	COL_LIST		/* newline-separated items */
};
enum fk_kind { FK_COL, FK_TAG, FK_PROP };

struct filter_key {
	const char	*key;		/* as typed after -f */
	const char	*sql;		/* column expression */
	enum col_type	 type;
	enum fk_kind	 kind;
};

struct qvd_object {
	const char	*name;		/* "vm" */
	const char	*label;		/* "VM" */
	const char	*plural;	/* "VMs" */
	const char	*id_sql;	/* "v.id" */
	const char	*label_sql;	/* what propget prints */
	const char	*from_sql;	/* FROM clause the keys refer to */
	const char	*prop_table;
	const char	*prop_fk;
	const struct filter_key *keys;
};

struct filter {
	struct buf	 where;		/* "TRUE AND ..." */
	char		*values[DB_MAX_PARAMS];	/* $1..$n */
	int		 nvalues;
	int		 given;		/* at least one condition */
};

extern const struct qvd_object qvd_objects[];
const struct qvd_object *object_find(const char *);
void	 filter_init(struct filter *);
int	 filter_add(struct filter *, const struct qvd_object *,
	    const char *spec, char *err, size_t errsz);
void	 filter_free(struct filter *);

/* ------------------------------------------------------------------ */
/* admin.c -- configuration, nodes, OSFs, users, properties (qa, WAT) */

#define ADMIN_ERRSZ		512	/* size of every err buffer below */
/*
 * After a success, err may hold a note on what was not done: it starts
 * with ADMIN_NOTE_REFUSED when something asked for was refused (then qa
 * exits 1 if nothing at all was done), otherwise it only says what was
 * already so.
 */
#define ADMIN_NOTE_REFUSED	"Not "

void	 admin_ids_param(const long long *ids, int n, struct buf *);
int	 admin_valid_name(const char *what, const char *s, size_t max,
	    char *err);
int	 admin_tx(struct db *, int (*)(struct db *, void *), void *,
	    char *err, const char *what);
void	 admin_normalize_login(const char *in, char *out, size_t outsz);
int	 admin_config_set(struct db *, const char *const *keys,
	    const char *const *values, int n,
	    void (*warn)(void *, const char *), void *arg, char *err);
long long admin_config_del(struct db *, const char *const *keys, int nkeys,
	    char *err);
int	 admin_config_ssl(struct db *, const char *key_pem,
	    const char *cert_pem, const char *ca_pem, const char *crl_pem,
	    char *err);
int	 admin_ssl_load(struct db *, char **key_pem, char **cert_pem,
	    char **ca_pem);
int	 admin_host_add(struct db *, const char *name, const char *address,
	    long long *id, char *err);
long long admin_host_del(struct db *, const long long *ids, int n,
	    char *err);
long long admin_host_block(struct db *, const long long *ids, int n,
	    int on, char *err);
long long admin_host_block_on(struct db *, const long long *ids, int n,
	    char *err);
long long admin_host_block_off(struct db *, const long long *ids, int n,
	    char *err);
int	 admin_osf_add(struct db *, const char *name, long long memory,
	    int use_overlay, long long storage_mb, long long *id, char *err);
long long admin_osf_del(struct db *, const long long *ids, int n,
	    char *err);
int	 admin_user_add(struct db *, const char *login, const char *password,
	    long long *id, char *err);
long long admin_user_del(struct db *, const long long *ids, int n,
	    char *err);
int	 admin_user_passwd(struct db *, const char *login,
	    const char *password, char *err);
long long admin_prop_set(struct db *, const struct qvd_object *,
	    const long long *ids, int n, const char *key, const char *value,
	    char *err);
long long admin_prop_del(struct db *, const struct qvd_object *,
	    const long long *ids, int n, const char *const *keys, int nkeys,
	    char *err);

/* ------------------------------------------------------------------ */
/* vmctl.c -- virtual machines: add, start, stop, block, edit, delete */

struct vm_add_req {
	const char	*name;
	long long	 user_id;
	long long	 osf_id;
	const char	*ip;		/* NULL: the next free one */
	const char	*di_tag;
	int		 bulk;		/* VMs to create */
	int		 force_suffix;	/* name-0 even for one VM */
	char		*warn;		/* out, ADMIN_ERRSZ: "" or a note */
};

struct vm_edit {
	const char	*name;		/* NULL: unchanged */
	const char	*di_tag;
	const char	*ip;
	long long	 user_id;	/* 0: unchanged */
	long long	 osf_id;
	int		 soft_set;	/* change vm_expiration_soft */
	int		 hard_set;
	long long	 soft;		/* epoch, 0 clears */
	long long	 hard;
	char		*warn;		/* out, ADMIN_ERRSZ: "" or a note */
};

void	 vm_home_dir(long long vm_id, long long user_id, const char *login,
	    char *out, size_t outsz);
int	 admin_lookup(struct db *, const char *kind, const char *name,
	    long long *id, char *err);
int	 admin_exists(struct db *, const char *kind, long long id, char *err);
int	 admin_vm_add(struct db *, const struct vm_add_req *,
	    long long *first_id, int *count, char *err);
long long admin_vm_start(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_stop(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_block(struct db *, const long long *ids, int n, int on,
	    char *err);
long long admin_vm_block_on(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_block_off(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_disconnect(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_del(struct db *, const long long *ids, int n,
	    char *err);
long long admin_vm_edit(struct db *, const long long *ids, int n,
	    const struct vm_edit *, char *err);

/* ------------------------------------------------------------------ */
/* di.c -- disk images: copying in, tags, expirations, deletion */

typedef void (*di_progress_fn)(unsigned long long done,
	    unsigned long long total, void *arg);

struct di_exp {			/* expirations to set on affected VMs */
	int		 soft_set;
	int		 hard_set;
	long long	 soft;		/* epoch */
	long long	 hard;
};

struct di_add_req {
	const char	*path;		/* the image file to copy in */
	long long	 osf_id;
	const char	*version;	/* NULL: YYYY-MM-DD-NNN */
	struct di_exp	 exp;
	di_progress_fn	 progress;
	void		*progress_arg;
};

int	 di_add(struct db *, const struct di_add_req *, long long *id,
	    char *version, size_t versionsz, long long *nexp, char *err);
int	 di_tag(struct db *, long long di_id, const char *tag,
	    const struct di_exp *, long long *nexp, char *err);
int	 di_untag(struct db *, long long di_id, const char *tag,
	    const struct di_exp *, long long *nexp, char *err);
long long di_del(struct db *, const long long *ids, int n, char *err);
int	 di_staging_list(char ***names, char *err);
int	 di_has_tag(const char *tags, const char *tag);

/* ------------------------------------------------------------------ */
/* table.c -- query results as text tables or JSON arrays */

struct out_col {
	const char	*header;	/* table heading */
	const char	*json_key;
	enum col_type	 type;		/* COL_TIME cells are epoch seconds */
};

int	 out_rows(FILE *, const struct out_col *, int ncols,
	    struct pg_result *, int json, int quiet);
const char *out_cell(const struct out_col *, const char *v, int isnull,
	    char *buf, size_t bufsz);

/* ------------------------------------------------------------------ */
/* lists.c -- the object lists of qa and the WAT */

struct list_def {
	const char		*object;	/* "vm", "user", ... */
	const char		*select;	/* the columns, as SQL */
	const char		*from;		/* NULL: the object's */
	const struct out_col	*cols;
	int			 ncols;
	const char		*order;
};

const struct list_def *list_find(const char *object);
const char *list_from(const struct list_def *);

/* ------------------------------------------------------------------ */
/* qa.c, qacmd.c, qavm.c -- the administration CLI */

#define QA_ERROR	1	/* exit status: the operation failed */
#define QA_USAGE	2	/* exit status: bad command line */
#define QA_MAX_ARGS	64

enum {
	QA_FILTER = 1,		/* acts on the objects -f selects */
	QA_BARE = 2,		/* takes bare words (keys) */
	QA_ANYKEY = 4,		/* takes any key=value */
	QA_JSON = 8		/* --json applies */
};

struct qa;

struct qa_cmd {
	const char	*obj;
	const char	*cmd;
	int		(*fn)(struct qa *);
	int		 flags;
	const char *const *args;	/* accepted keys */
	const char	*usage;		/* after "qa obj cmd" */
	const char	*summary;
	const char	*help;
};

struct qa {
	struct db	*db;
	const struct qa_cmd *cmd;
	const struct qvd_object *obj;	/* NULL for config */
	const char	*objname;
	const char	*cmdname;
	struct filter	 filter;
	int		 force;
	int		 quiet;
	int		 json;
	int		 secrets;	/* --secrets: config get shows them */
	const char	*no_conf_file;	/* the default node.conf, missing */
	int		 nargs;
	char		*key[QA_MAX_ARGS];
	char		*val[QA_MAX_ARGS];	/* NULL for a bare word */
	char	       **rest;			/* after "--" */
	int		 nrest;
};

extern const struct qa_cmd qa_commands[];

int	 qa_fail(struct qa *, const char *, ...) PRINTFLIKE(2, 3);
int	 qa_usage(struct qa *, const char *, ...) PRINTFLIKE(2, 3);
void	 qa_warn(struct qa *, const char *, ...) PRINTFLIKE(2, 3);
const char *qa_arg(struct qa *, const char *key);
int	 qa_need(struct qa *, const char *key, const char **out);
int	 qa_int_arg(struct qa *, const char *key, long long min,
	    long long max, long long dflt, long long *out);
int	 qa_time_arg(struct qa *, const char *key, int *set, long long *epoch);
int	 qa_confirm(struct qa *, const char *verb);
int	 qa_ids(struct qa *, long long **ids, int *n);
int	 qa_list_of(struct qa *, const char *object);
int	 qa_say_count(struct qa *, long long n, const char *fmt,
	    const char *err);
int	 qa_mass(struct qa *, const char *verb,
	    long long (*)(struct db *, const long long *, int, char *),
	    const char *fmt);
int	 qa_list(struct qa *, const char *select, const char *from,
	    const struct out_col *, int ncols, const char *order);
int	 qa_read_password(struct qa *, const char *prompt, char *out,
	    size_t outsz);
int	 qa_pick(struct qa *, const char *id_key, const char *name_key,
	    const char *kind, long long *id);

int	 qa_vm_add(struct qa *);
int	 qa_vm_list(struct qa *);
int	 qa_vm_start(struct qa *);
int	 qa_vm_stop(struct qa *);
int	 qa_vm_block(struct qa *);
int	 qa_vm_unblock(struct qa *);
int	 qa_vm_del(struct qa *);
int	 qa_vm_disconnect(struct qa *);
int	 qa_vm_edit(struct qa *);
int	 qa_vm_counters(struct qa *);
int	 qa_vm_console(struct qa *);
int	 qa_vm_ssh(struct qa *);
int	 qa_vm_vnc(struct qa *);

/* ------------------------------------------------------------------ */
/* nx.c -- NX option strings, link presets, nxagent's state lines */

#define NX_MAX_PARAMS		256

struct nx_params {		/* the key=value pairs of a VMA call */
	int		 n;
	char		*key[NX_MAX_PARAMS];
	char		*val[NX_MAX_PARAMS];
};

int	 nx_value_ok(const char *);
const char *nx_param(const struct nx_params *, const char *key);
int	 nx_agent_options(const struct nx_params *, int display, int audio,
	    int slave, int printing, char *out, size_t outsz, char *err,
	    size_t errsz);
int	 nx_parse_state_line(const char *line, char *state, size_t statesz);
const char *nx_x_state(const char *nx_state);
int	 nx_link(const char *link, char *out, size_t outsz);
int	 nx_proxy_options(const char *given, const char *link,
	    const char *extra, char *out, size_t outsz, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* proc.c -- child processes: spawn, wait, kill, drop privileges */

struct proc_spec {
	char *const	*argv;
	char *const	*envp;		/* NULL: inherit, and search PATH */
	int		 stdin_fd;	/* -1: /dev/null */
	int		 stdout_fd;
	int		 stderr_fd;
	int		 new_session;	/* setsid(): its own process group */
	const char	*cwd;
	int		 drop;		/* become user/uid/gid */
	const char	*user;
	uid_t		 uid;
	gid_t		 gid;
};

pid_t	 proc_spawn(const struct proc_spec *, char *err, size_t errsz);
int	 proc_wait(pid_t, int timeout_ms, int *status);
void	 proc_kill_group(pid_t, int grace_ms);
void	 proc_status_str(int status, char *out, size_t outsz);
int	 proc_run(char *const *argv, int timeout_ms, int out_fd, char *err,
	    size_t errsz);
int	 proc_run_capture(char *const *argv, int timeout_ms, char *out,
	    size_t outsz);
pid_t	 proc_detach(void);
int	 proc_drop_privileges(const char *user, uid_t, gid_t, char *err,
	    size_t errsz);
int	 proc_user(const char *name, uid_t *, gid_t *, char *home,
	    size_t homesz);
int	 proc_join_netns_of(pid_t, const char *comm, char *err, size_t errsz);
int	 proc_cmdline(pid_t, char *out, size_t outsz);
int	 proc_alive(pid_t);
int	 proc_wait_gone(pid_t, int ms);
pid_t	 proc_pid_file(const char *path);
void	 proc_close_all_but(int keep);

/* ------------------------------------------------------------------ */
/* hook.c -- the VMA's hooks (manual chapter 15) */

int	 hook_run(const char *key, const struct nx_params *,
	    const char *const *extra, int detached);

/* ------------------------------------------------------------------ */
/* provision.c -- the session user's account and home (VMA) */

int	 provision_name_ok(const char *);
int	 provision_user(const struct nx_params *, char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* xsession.c -- the X session: nxagent as the user, its state files */

int	 xs_set_state(const char *nx_state);
const char *xs_x_state(long long *since);
pid_t	 xs_agent_pid(void);
int	 xs_signal(int sig);
void	 xs_suspend(void);
int	 xs_write_options(const struct nx_params *, char *err, size_t errsz);
void	 xs_write_side_files(const struct nx_params *);
int	 xs_start(const struct nx_params *);

/* ------------------------------------------------------------------ */
/* daemon.c -- detaching, locked pid files, signals through a pipe */

int	 daemon_detach(char *err, size_t errsz);
int	 file_write_atomic(const char *path, const char *text, mode_t mode);
int	 daemon_pidfile(const char *path, char *err, size_t errsz);
void	 daemon_pidfile_remove(void);
void	 daemon_forget_pidfile(void);
int	 sig_pipe_init(const int *sigs);
int	 sig_pipe_next(void);
void	 sig_pipe_child(void);

/* ------------------------------------------------------------------ */
/* job.c -- slow work in forked workers, reported to the poll() loop */

#define JOB_MAX		256
#define JOB_OUT_MAX	1024

struct job {
	pid_t		 pid;		/* 0 when idle */
	int		 fd;		/* the worker's output */
	long long	 deadline;	/* mono_ms() */
	char		 what[64];
	char		 out[JOB_OUT_MAX];
	size_t		 outlen;
	void		(*done)(struct job *, int ok, const char *out);
	void		*ctx;
};

int	 job_start(struct job *, const char *what, int timeout_ms,
	    int (*fn)(void *arg, char *out, size_t outsz), void *arg,
	    void (*done)(struct job *, int ok, const char *out), void *ctx);
int	 job_active(const struct job *);
void	 job_poll(void);
void	 job_cancel(struct job *);
int	 job_next_timeout(int max);
int	 job_count(void);

/* ------------------------------------------------------------------ */
/* vmarpc.c -- calling a VMA */

int	 vma_call(const char *addr, int port, const char *method,
	    const char *query, int timeout_ms, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* proxyproto.c -- the PROXY header a load balancer sends first */
struct proxy_hdr {
	unsigned char	 addr[16];	/* the client's (IPv4-mapped) */
	int		 local;		/* the balancer's own connection */
	size_t		 consumed;	/* bytes the header took */
};
int	 proxy_parse(const unsigned char *, size_t, struct proxy_hdr *);
int	 proxy_trusted(const unsigned char addr[16]);
void	 proxy_addr_text(const unsigned char addr[16], char *txt, size_t);
size_t	 proxy_max_len(void);

/* fence.c -- the node's lease on its VMs, kept by the fence keeper: they
 * are killed when it runs out, even if the HKD is blocked or dead */
int	 fence_init(long long lease_s, char *err, size_t errsz);
void	 fence_renew(long long sent_ms);
long long fence_left_ms(void);
void	 fence_track(pid_t);
void	 fence_untrack(pid_t);
void	 fence_end(void);

/* hostload.c -- this node's free memory and idle CPU */

double	 hostload_free_ram_mb(void);
double	 hostload_idle_cpu(void);

/* ------------------------------------------------------------------ */
/* net.c -- the VM bridge and the VMs' host-side interfaces */

int	 net_link_exists(const char *);
int	 net_ensure_bridge(const struct ipnet *, const char *address,
	    int *created, char *err, size_t errsz);
void	 net_vm_iface(long long vm_id, char *out, size_t outsz);
int	 net_link_del(const char *, char *err, size_t errsz);
int	 net_tap_add(const char *name, const char *bridge, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* lxc.c, kvm.c -- hypervisors behind one table */

struct vm_info {		/* what a hypervisor needs to run a VM */
	long long	 id;
	char		 name[72];
	long long	 user_id;
	char		 login[72];
	long long	 osf_id;
	long long	 di_id;
	char		 di_path[512];	/* file name in path.storage.images */
	long long	 memory;	/* MB */
	long long	 storage_mb;	/* 0: no persistent home */
	int		 use_overlay;
	char		 ip[16];
	char		 mac[24];
	char		 iface[16];	/* host side of its interface */
	char		 kernel[512];	/* KVM direct boot: DI or OSF */
	char		 initrd[512];	/* properties kvm.kernel, ... */
	char		 append[512];
};

struct hypervisor {
	const char	*name;
	/* these run in jobs; out gets a reason, or the VM's pid on start */
	int		(*start)(const struct vm_info *, char *out, size_t);
	int		(*stop)(const struct vm_info *, int timeout_s, char *out,
			    size_t);
	int		(*kill)(const struct vm_info *, char *out, size_t);
	int		(*cleanup)(const struct vm_info *, int failed, char *out,
			    size_t);
	/* cheap, in the loop */
	int		(*alive)(const struct vm_info *, pid_t);
	pid_t		(*running)(long long vm_id);
	/* drop what the node keeps of disk images not in keep (basefs) */
	void		(*forget_images)(char *const *keep, size_t nkeep);
	/* fn(id) for every VM of ours this node's run directory holds */
	void		(*each)(void (*fn)(long long));
};

extern const struct hypervisor hv_lxc;
extern const struct hypervisor hv_kvm;
int	 kvm_init(const char *node_address, char *err, size_t errsz);

/* qmp.c -- QEMU's monitor protocol, one connection at a time */
int	 qmp_open(const char *path, int timeout_ms, char *err, size_t errsz);
int	 qmp_execute(const char *command, int timeout_ms, char *reply,
	    size_t replysz, char *err, size_t errsz);
void	 qmp_close(void);

/* ------------------------------------------------------------------ */
/* hkd.c -- the node daemon; vmh.c -- its VMs */

struct node {
	struct db	*db;
	long long	 host_id;
	char		 name[128];
	char		 address[128];
	const struct hypervisor *hv;
	int		 l7r_fd;	/* the L7R's listener, -1 if none */
	int		 l7r_notify[2];	/* children -> node: a session ended */
	struct ssl_ctx_st *l7r_tls;	/* NULL: plain HTTP (l7r.use_ssl=0) */
	int		 l7r_drop;	/* children become l7r_uid/l7r_gid */
	uid_t		 l7r_uid;	/* l7r.as_user, looked up once */
	gid_t		 l7r_gid;
	int		 stopping;	/* shutting down: no new starts */
	int		 blocked;	/* host_runtimes.blocked */
	int		 recheck;	/* look for commands again now */
	int		 sweep_images;	/* DIs were deleted: clean basefs */
	int		 fence_said;	/* the lease's end is logged */
};

enum vm_phase {
	VMP_QUEUED,		/* starting: waiting for a start slot */
	VMP_SETUP,		/* starting: storage and lxc-start */
	VMP_WAIT_VMA,		/* starting: until the VMA answers */
	VMP_RUNNING,
	VMP_SHUTDOWN,		/* stopping: the VMA powers it off */
	VMP_STOP,		/* stopping: the halt signal, then kill */
	VMP_KILL,		/* zombie */
	VMP_CLEANUP,		/* unmount, remove, release */
	VMP_DONE
};

struct vm {
	struct vm_info	 info;
	const struct hypervisor *hv;
	enum vm_phase	 phase;
	char		 db_state[16];	/* vm_runtimes.vm_state as we left it */
	pid_t		 pid;		/* the container's init, or qemu */
	int		 pidfd;		/* readable when pid ends; -1 */
	struct job	 job;
	long long	 since;		/* mono_ms() of the phase change */
	long long	 next_ping;
	long long	 last_ok;
	long long	 wait_ms;
	long long	 retry_at;
	int		 failures;
	int		 stop_asked;
	int		 restart;	/* start again once stopped */
	int		 adopted;	/* found running at startup */
	int		 no_db;		/* its row is not ours: do not write */
	int		 poweroff_sent;
	char		 failure[512];	/* why the start failed */
	char		 rpc_method[16];
	char		 rpc_query[256];
	char		 pend_method[16];
	char		 pend_query[256];
	struct vm	*next;
};

struct vm *vmh_find(long long id);
struct vm *vmh_list(void);
int	 vmh_count(void);
void	 vmh_tick(struct node *);
void	 vmh_start(struct node *, long long id);
void	 vmh_adopt(struct node *, long long id, const char *db_state,
	    pid_t pid);
void	 vmh_reap_stray(struct node *, long long id);
void	 vmh_stop(struct node *, long long id);
int	 vmh_rpc(long long id, const char *method, const char *query);
void	 vmh_restart(struct node *, long long id);
void	 vmh_stop_all(struct node *);
int	 vmh_empty(void);
struct pollfd;
int	 vmh_pollfds(struct pollfd *, int max);
void	 vmh_pollfds_done(const struct pollfd *, int n);

/* dhcp.c -- dnsmasq, the VMs' DHCP server, supervised by the node */

void	 dhcp_sync(const struct vm *list);
void	 dhcp_stop(void);

/* ------------------------------------------------------------------ */
/* tty.c -- questions asked on the controlling terminal */

int	 tty_interactive(void);
int	 tty_ask(const char *prompt, int secret, char *out, size_t outsz);
int	 tty_yes(const char *prompt);

/* ------------------------------------------------------------------ */
/* client.c, l7rclient.c, certstore.c -- qvdclient */

enum client_exit {		/* qvdclient's exit status (qvdclient(1)) */
	CX_OK = 0,		/* done; the session ended normally */
	CX_ERROR = 1,		/* anything else unexpected */
	CX_USAGE = 2,		/* bad arguments or configuration */
	CX_UNREACHABLE = 3,	/* the server cannot be reached */
	CX_TLS = 4,		/* TLS failed, the certificate refused */
	CX_AUTH = 5,		/* login refused (401) or throttled */
	CX_NO_VM = 6,		/* no VMs, or not that one */
	CX_VM_BLOCKED = 7,	/* the VM is blocked: maintenance */
	CX_SERVER = 8,		/* the node is blocked or unavailable */
	CX_VM_FAILED = 9,	/* the VM or its X session did not start */
	CX_NXPROXY = 10,	/* nxproxy is missing or failed */
	CX_ADMIN = 11,		/* the administrator ended the session */
	CX_TAKEN = 12,		/* another client took the session over */
};

#define L7RC_MAX_VMS	256

struct l7rc_vm {		/* one entry of list_of_vm */
	long long	 id;
	char		 name[128];
	char		 state[16];
	int		 blocked;
	char		 ended_by[32];	/* who ended its last session */
};

struct l7rc {			/* one L7R as the client talks to it */
	char		 host[256];
	char		 port[8];
	int		 use_tls;
	int		 verify;	/* 0: -n, any certificate */
	int		 ask;		/* may ask about certificates */
	const char	*cert_dir;	/* ~/.qvd/certs */
	const char	*cert_file;	/* -c, -k */
	const char	*key_file;
	char		 auth[1024];	/* base64(login:password) */
	struct ssl_ctx_st *ctx;
	struct conn	 c;
	int		 open;
	void		(*progress)(const char *step);	/* each 102 */
	int		 code;		/* the last CX_ failure */
	char		 err[512];	/* and its message */
};

int	 l7rc_tcp_connect(const char *host, const char *port, char *err,
	    size_t errsz);
int	 l7rc_open(struct l7rc *);
void	 l7rc_close(struct l7rc *);
void	 l7rc_free(struct l7rc *);
int	 l7rc_get(struct l7rc *, const char *target, int *status,
	    struct buf *body);
int	 l7rc_list(struct l7rc *, struct l7rc_vm *, int max, int *status);
int	 l7rc_connect_vm(struct l7rc *, const char *target);
void	 cert_load_trusted(struct ssl_ctx_st *, const char *dir);
int	 cert_check(struct ssl_st *, const char *dir, int ask, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* x11.c -- the user's X display as qvdclient sees it, without Xlib */

#define X11_MAX_AUTH_FILE	(1024 * 1024)	/* .Xauthority read at most */
#define X11_MAX_REPLY		(256 * 1024)	/* a reply's bytes */
#define X11_TIMEOUT_MS		5000		/* per request */
#define X11_FIT_SETTLE_MS	3000	/* nxagent's window sized after it maps */
#define X11_FIT_MAX		4	/* corrections of its size, at most */
#define X11_CLOSED		(-2)	/* x11_setup: closed unanswered */
#define X11_RESET_TRIES		20	/* connections while it resets */
#define X11_MAX_PENDING		16	/* events kept while requests answer */

struct x11_where {		/* DISPLAY, parsed */
	int		 local;		/* a Unix socket of this machine */
	char		 path[108];	/* "/path:N": that socket */
	char		 host[256];	/* TCP: port 6000 + number */
	int		 number;
	int		 screen;
};

struct x11_cookie {		/* MIT-MAGIC-COOKIE-1 */
	unsigned char	 data[64];
	size_t		 len;		/* 0: none */
};

struct x11_conn {		/* a set-up connection */
	int		 fd;
	uint32_t	 root;		/* the screen's root window */
	int		 width, height;	/* in pixels */
	unsigned	 seq;		/* the last request's number */
	long long	 deadline;	/* mono_ms() limit of the request */
	uint32_t	 events;	/* selected on the root window */
	int		 hold_pipe;	/* x11_hold(): its child's lifeline */
	unsigned char	 pending[X11_MAX_PENDING][32];	/* kept events */
	int		 npending;
};

struct x11_fit {		/* the size nxagent's window should have */
	int		 width, height;
};

int	 x11_parse_display(const char *, struct x11_where *, char *err,
	    size_t errsz);
int	 x11_connect_local(const struct x11_where *, char *err, size_t errsz);
int	 x11_auth_find(const unsigned char *file, size_t len, int family,
	    const void *addr, size_t addrlen, int number, struct x11_cookie *);
int	 x11_auth_lookup(int fd, const struct x11_where *, struct x11_cookie *);
int	 x11_parse_setup(const unsigned char *, size_t, int screen,
	    struct x11_conn *, char *err, size_t errsz);
int	 x11_setup(int fd, const struct x11_where *, const struct x11_cookie *,
	    struct x11_conn *, char *err, size_t errsz);
int	 x11_hold_resize_redirect(struct x11_conn *);
int	 x11_parse_xkb_names(const unsigned char *, size_t, char *out,
	    size_t outsz);
int	 x11_keyboard(struct x11_conn *, char *out, size_t outsz);
pid_t	 x11_hold(struct x11_conn *, const struct x11_fit *);
void	 x11_release(struct x11_conn *, pid_t holder);
void	 x11_close(struct x11_conn *);

/* ------------------------------------------------------------------ */
/* relay.c -- the byte pump of the NX tunnel */

enum relay_end { RELAY_STOPPED = 0, RELAY_CONN_ENDED, RELAY_FD_ENDED };

struct relay_stats {
	unsigned long long up;		/* from the connection */
	unsigned long long down;	/* to the connection */
	enum relay_end	 end;		/* which side ended it */
};

int	 relay_run(struct conn *, int fd, volatile sig_atomic_t *stop,
	    struct relay_stats *);

/* ------------------------------------------------------------------ */
/* resolve.c -- names to addresses without NSS (the static client) */

int	 resolve_parse_answer(const unsigned char *m, int len, unsigned short id,
	    int type, char *out, size_t outsz);
int	 resolve_host(const char *name, char *out, size_t outsz, char *err,
	    size_t errsz);

/* ------------------------------------------------------------------ */
/* ldap.c -- a minimal LDAPv3 client: simple bind, search, TLS */

struct ldap {
	struct conn	 c;
	struct ssl_ctx_st *tls;
	int		 open;
	int		 msgid;
	char		 host[256];
	char		 err[256];	/* what went wrong, or the server's text */
};

int	 ldap_open(struct ldap *, const char *where, int starttls,
	    const char *cacert, int timeout_ms);
int	 ldap_bind(struct ldap *, const char *dn, const char *password);
int	 ldap_search_dn(struct ldap *, const char *base, int scope,
	    int deref, const char *filter, char *dn, size_t dnsz);
void	 ldap_close(struct ldap *);
int	 ldap_filter_ber(const char *filter, struct buf *out, char *err);
void	 ldap_escape_value(const char *in, char *out, size_t outsz);

/* ------------------------------------------------------------------ */
/* auth.c -- the L7R's authentication plugins */

struct auth_result {
	long long	 user_id;
	char		 login[128];	/* normalised */
};

int	 auth_check(struct db *, const char *login, const char *password,
	    struct auth_result *, char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* l7r.c, l7rfront.c, l7rreq.c, l7rsession.c -- the layer-7 router */

#define L7R_MAX_CHILDREN	4096	/* connections, front or forked */
#define L7R_MAX_WORKERS		64

enum l7r_counter {		/* host_counters, counted by the children */
	LC_HTTP, LC_AUTH, LC_AUTH_OK, LC_NX, LC_NX_OK, LC_SHORT, LC_N
};

struct l7r_slot {		/* one per connection */
	pid_t		 pid;		/* its front worker's, or its child's */
	int		 front;		/* still in a front worker */
	int		 ended;		/* the child is gone: clean up */
	unsigned char	 addr[16];	/* the peer, IPv4 mapped into IPv6 */
	int		 authenticated;
	long long	 vm_id;		/* the session's VM, once it has one */
};

/* Shared between the node and its L7R children (mmap before forking):
 * /qvd/ping is answered from here, without the database. */
struct l7r_shared {
	char		 state[16];	/* host_runtimes.state */
	int		 blocked;
	unsigned long long counters[LC_N];
	char		 lock;
	struct throttle	 throttle;	/* failed logins */
	struct l7r_slot	 slots[L7R_MAX_CHILDREN];
};

struct l7r_req {		/* a connection's child and its request */
	struct node	*n;
	struct conn	*c;
	struct db	*db;		/* the child's own, opened on use */
	struct l7r_slot	*slot;
	unsigned char	 addr[16];
	char		 peer[64];
	struct auth_result auth;
	int		 authed;
	unsigned char	 auth_key[32];	/* digest of the accepted credentials */
	const struct http_msg *m;
	size_t		 m_len;		/* bytes of the request head */
	char		 path[256];
	const char	*query;
	size_t		 qlen;
	int		 close_on_error;	/* the route closes after one */
	long long	 retry_after;	/* a 429's, in seconds */
};

int	 l7r_open(struct node *, char *err, size_t errsz);
int	 l7r_reload(struct node *, char *err, size_t errsz);
void	 l7r_reap(struct node *);
void	 l7r_publish(const char *state, int blocked);
void	 l7r_flush_counters(struct node *);
void	 l7r_kill_aborted(struct node *);
void	 l7r_close(struct node *);
struct l7r_shared *l7r_shm(void);
void	 l7r_count(enum l7r_counter);
void	 l7r_lock(void);
void	 l7r_unlock(void);
void	 l7r_slot_done(struct node *, struct l7r_slot *);
void	 l7r_front(struct node *) NORETURN;
void	 l7r_serve(struct node *, struct conn *, struct l7r_slot *,
	    const char *peer) NORETURN;
int	 l7r_ping_answer(char *out, size_t outsz, int closing, int *status);
int	 l7r_reply(struct l7r_req *, int status, const char *fmt, ...)
	    PRINTFLIKE(3, 4);
int	 l7r_progress(struct l7r_req *, const char *fmt, ...)
	    PRINTFLIKE(2, 3);
struct db *l7r_db(struct l7r_req *);
int	 l7r_connect_to_vm(struct l7r_req *);
int	 l7r_stop_vm(struct l7r_req *);

/* ------------------------------------------------------------------ */
/* wat.c, watauth.c, watpage.c, watact.c -- qvd-wat, the web
 * administration tool: pages at the manual's URLs, and /api/ (JSON) that
 * the pages' forms post to; both act through admin.c, vmctl.c and di.c. */

#define WAT_MAX_BODY	(4 << 20)	/* select-all over 10k VMs fits */
#define WAT_COOKIE	"qvdwat"

struct wat_param {		/* one decoded form field or JSON member */
	char		*key;
	char		*val;
};

struct wat_req {		/* one request: copies of what routes use */
	struct conn	*c;
	struct db	*db;
	struct throttle	*throttle;
	int		 post;
	int		 tls;
	char		 path[256];
	char		 query[1024];	/* raw, after '?' */
	char		 csrf_header[80];	/* X-CSRF-Token */
	char		 ctype[80];		/* Content-Type */
	char		 authorization[512];
	char		 cookies[1024];
	char		 referer[256];	/* its path, if it sent one */
	struct buf	 body;
	struct wat_param *params;	/* the body's, decoded */
	int		 nparams;
	char		 login[128];	/* the admin, "" if not logged in */
	char		 cookie[256];	/* the session cookie, if by cookie */
	int		 basic;		/* logged in by HTTP Basic */
	unsigned char	 addr[16];
	char		 peer[64];
	char		 flash[300];	/* message from the last action */
	int		 flash_error;
};

/* wat.c */
int	 wat_reply(struct wat_req *, int status, const char *extra,
	    const char *ctype, const char *body);
int	 wat_redirect(struct wat_req *, const char *to, const char *extra);
int	 wat_json_error(struct wat_req *, int status, const char *fmt, ...)
	    PRINTFLIKE(3, 4);
int	 wat_json(struct wat_req *, int status, struct json_out *);
const char *wat_param(const struct wat_req *, const char *key);
int	 wat_param_ids(const struct wat_req *, long long **ids);
const char *wat_query(const struct wat_req *, const char *key, char *out,
	    size_t outsz);

/* watauth.c */
int	 wat_auth_init(struct db *);
int	 wat_stale_page(struct wat_req *);
void	 wat_session(struct wat_req *);
int	 wat_csrf_ok(const struct wat_req *);
void	 wat_csrf_token(const struct wat_req *, char *out, size_t outsz);
int	 wat_login(struct wat_req *);
int	 wat_logout(struct wat_req *);
void	 wat_flash_header(char *out, size_t outsz, int error,
	    const char *msg);
const char *wat_flash_clear(const struct wat_req *);
int	 wat_login_page(struct wat_req *, int status, const char *error);

/* watpage.c: the frame, the dashboard, the lists, GET routing */
struct wat_view {		/* an object list at the manual's URL */
	const char		*page;		/* "/vm/" */
	const char		*object;	/* lists.c's "vm" */
	const char		*title;
	const char *const	*cols;		/* lists.c json keys shown */
	const char *const	*verbs;		/* its action buttons */
	int			 linked;	/* ids link to PAGE/ID */
};

extern const struct wat_view wat_views[];
const struct wat_view *wat_view_of(const char *object);
void	 wat_html(struct buf *, const char *);
void	 wat_form_hidden(struct buf *, const struct wat_req *,
	    const char *back);
void	 wat_page_head(struct buf *, const char *title, struct wat_req *);
int	 wat_page_send(struct wat_req *, struct buf *, int status);
struct pg_result *wat_list_rows(struct wat_req *, const struct list_def *,
	    const char *where, const char *arg);
void	 wat_action_buttons(struct buf *, const struct wat_view *);
void	 wat_list_form(struct wat_req *, struct buf *,
	    const struct wat_view *, const char *where, const char *arg,
	    const char *back, const char *search);
int	 wat_get(struct wat_req *);
int	 wat_api_get(struct wat_req *);

/* watform.c: an object's page, the "New" forms, /api/vm/ID, staging */
int	 wat_form_page(struct wat_req *, const struct wat_view *,
	    const char *rest);
int	 wat_api_vm(struct wat_req *, const char *id);
int	 wat_api_staging(struct wat_req *);

/* watact.c: the actions behind POST /api/OBJECT/VERB; the DI job page */
struct wat_result;
struct wat_action {
	const char	*object;	/* "vm" */
	const char	*verb;		/* "start" */
	const char	*label;		/* its button */
	const char	*confirm;	/* asked first, or NULL */
	int		(*act)(struct wat_req *, struct wat_result *);
};

const struct wat_action *wat_action_find(const char *object,
	    const char *verb);
int	 wat_act(struct wat_req *, const char *object, const char *verb);
int	 wat_di_job(struct wat_req *, const char *id, int json);

/* watjob.c -- disk image jobs: their files, and the copy */
struct wat_job_state {		/* a job's file, read back and checked */
	char		 state[16];	/* running, done or failed */
	long long	 done, total;	/* bytes */
	long long	 id;		/* the new DI's, when done */
	char		 version[80];
	char		 msg[ADMIN_ERRSZ];
};

int	 wat_jobs_init(uid_t, gid_t, char *err, size_t errsz);
int	 wat_job_id_valid(const char *);
void	 wat_job_write(const char *id, const char *state,
	    unsigned long long done, unsigned long long total, const char *msg);
int	 wat_job_read(const char *id, struct wat_job_state *);
void	 wat_job_copy(const char *id, struct di_add_req *,
	    int delete_after) NORETURN;

/* watkeep.c -- the keeper: what the WAT's user may not do itself */
int	 wat_keeper_start(char *err, size_t errsz);
int	 wat_keeper_call(const char *const *words, int nwords,
	    int timeout_ms, char *answer, size_t answersz);

#endif /* QVD_H */
