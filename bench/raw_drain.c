/* raw_drain: the benchmark's ceiling, the least work a client can do to move
 * a whole folder out of an IMAP server over one TLS connection.
 *
 *   raw_drain --port=14993 --user=alice --password_file=pw --ca_file=cert.pem
 *             [--host=localhost] [--folder=INBOX] [--uids=1:*]
 *
 * It connects over IPv4 (the host name is also the name the certificate must
 * carry), logs in, EXAMINEs the folder, sends one UID FETCH 1:* (UID
 * BODY.PEEK[]) and reads until the tagged reply, skipping each literal by its
 * announced length without looking at it. Prints one JSON line: messages
 * (FETCH responses), literal_bytes (the message bytes), wire_bytes (all bytes
 * of the FETCH reply), seconds (connect to logout) and fetch_seconds.
 *
 * --uids replaces 1:* with another UID set, e.g. every other chunk of 100
 * UIDs, so that two drains side by side split a folder as StreamRecords'
 * parallel connections do.
 *
 * Built by bench/run: cc -O2 -o raw_drain raw_drain.c -lssl -lcrypto
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBufSize = 256 * 1024, kMaxLine = 64 * 1024 };

struct Conn {
  SSL *ssl;
  unsigned char buf[kBufSize];
  size_t start, end; /* unread bytes are buf[start, end) */
  unsigned long long received;
};

static void Fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("raw_drain: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Refills the buffer; the unread bytes move to its front first. */
static void Fill(struct Conn *c) {
  if (c->start > 0) {
    memmove(c->buf, c->buf + c->start, c->end - c->start);
    c->end -= c->start;
    c->start = 0;
  }
  if (c->end == sizeof c->buf) Fail("response line longer than %d bytes", kBufSize);
  size_t got = 0;
  int rc = SSL_read_ex(c->ssl, c->buf + c->end, sizeof c->buf - c->end, &got);
  if (rc != 1) {
    Fail("connection ended in the middle of a response (TLS error %d)",
         SSL_get_error(c->ssl, rc));
  }
  c->end += got;
  c->received += got;
}

/* Copies the next line, CRLF removed, into line (NUL-terminated). */
static size_t ReadLine(struct Conn *c, char *line) {
  for (;;) {
    unsigned char *lf = memchr(c->buf + c->start, '\n', c->end - c->start);
    if (lf != NULL) {
      size_t n = (size_t)(lf - (c->buf + c->start));
      size_t keep = n > 0 && lf[-1] == '\r' ? n - 1 : n;
      if (keep >= kMaxLine) Fail("response line longer than %d bytes", kMaxLine);
      memcpy(line, c->buf + c->start, keep);
      line[keep] = '\0';
      c->start += n + 1;
      return keep;
    }
    Fill(c);
  }
}

/* Discards the next n bytes (a literal's contents). */
static void Skip(struct Conn *c, unsigned long long n) {
  while (n > 0) {
    if (c->start == c->end) {
      c->start = c->end = 0;
      Fill(c);
    }
    size_t avail = c->end - c->start;
    size_t take = n < avail ? (size_t)n : avail;
    c->start += take;
    n -= take;
  }
}

/* The literal length a line announces at its end ("{123}"), or -1. */
static long long TrailingLiteral(const char *line, size_t len) {
  if (len < 3 || line[len - 1] != '}') return -1;
  size_t i = len - 1;
  while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') --i;
  if (i == 0 || i == len - 1 || line[i - 1] != '{') return -1;
  if (len - 1 - i > 12) Fail("literal size too large: %s", line + i - 1);
  return strtoll(line + i, NULL, 10);
}

static void Send(struct Conn *c, const char *text) {
  size_t written = 0;
  if (SSL_write_ex(c->ssl, text, strlen(text), &written) != 1) Fail("write failed");
}

struct Reply {
  unsigned long long fetches, literals, literal_bytes;
  char status[512];
};

/* Reads responses until the one tagged `tag`; literals are skipped unread. */
static void Await(struct Conn *c, const char *tag, struct Reply *r) {
  static char line[kMaxLine];
  size_t tag_len = strlen(tag);
  int continuing = 0; /* the line continues a response after a literal */
  memset(r, 0, sizeof *r);
  for (;;) {
    size_t len = ReadLine(c, line);
    if (!continuing) {
      if (strncmp(line, tag, tag_len) == 0 && line[tag_len] == ' ') {
        snprintf(r->status, sizeof r->status, "%s", line + tag_len + 1);
        return;
      }
      /* "* 12 FETCH (...": the third word tells an untagged FETCH. */
      if (line[0] == '*') {
        const char *sp = strchr(line + 2, ' ');
        if (sp != NULL && strncmp(sp + 1, "FETCH ", 6) == 0) r->fetches++;
      }
    }
    long long literal = TrailingLiteral(line, len);
    if (literal >= 0) {
      r->literals++;
      r->literal_bytes += (unsigned long long)literal;
      Skip(c, (unsigned long long)literal);
      continuing = 1;
    } else {
      continuing = 0;
    }
  }
}

/* An IMAP quoted string of s (backslash and double quote escaped). */
static void Quote(const char *s, char *out, size_t cap) {
  size_t n = 0;
  out[n++] = '"';
  for (; *s != '\0'; ++s) {
    if (*s == '\r' || *s == '\n') Fail("CR or LF in a login string");
    if (n + 3 >= cap) Fail("login string too long");
    if (*s == '"' || *s == '\\') out[n++] = '\\';
    out[n++] = *s;
  }
  out[n++] = '"';
  out[n] = '\0';
}

static const char *Flag(int argc, char **argv, const char *name, const char *fallback) {
  size_t len = strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, len) == 0 &&
        argv[i][2 + len] == '=') {
      return argv[i] + 3 + len;
    }
  }
  if (fallback == NULL) Fail("missing --%s=", name);
  return fallback;
}

static void ReadPassword(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL) Fail("cannot open %s: %s", path, strerror(errno));
  if (fgets(out, (int)cap, f) == NULL) out[0] = '\0';
  fclose(f);
  out[strcspn(out, "\r\n")] = '\0';
}

static int Connect(const char *host, const char *port) {
  struct addrinfo hints, *list;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &list);
  if (rc != 0) Fail("cannot resolve %s: %s", host, gai_strerror(rc));
  int fd = -1;
  for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(list);
  if (fd < 0) Fail("cannot connect to %s:%s", host, port);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int main(int argc, char **argv) {
  const char *host = Flag(argc, argv, "host", "localhost");
  const char *port = Flag(argc, argv, "port", NULL);
  const char *user = Flag(argc, argv, "user", NULL);
  const char *ca_file = Flag(argc, argv, "ca_file", NULL);
  const char *folder = Flag(argc, argv, "folder", "INBOX");
  const char *uids = Flag(argc, argv, "uids", "1:*");
  if (strspn(uids, "0123456789:,*") != strlen(uids) || uids[0] == '\0') {
    Fail("--uids must be an IMAP UID set (digits, ':', ',' and '*'): %s", uids);
  }
  char password[1024], q_user[2100], q_password[2100], q_folder[2100], command[8000];
  ReadPassword(Flag(argc, argv, "password_file", NULL), password, sizeof password);

  const double t0 = Now();
  int fd = Connect(host, port);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
    Fail("cannot load CA file %s", ca_file);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  static struct Conn conn;
  struct Conn *c = &conn;
  c->ssl = SSL_new(ctx);
  SSL_set_fd(c->ssl, fd);
  SSL_set_tlsext_host_name(c->ssl, host);
  SSL_set1_host(c->ssl, host);
  if (SSL_connect(c->ssl) != 1) Fail("TLS handshake with %s:%s failed", host, port);

  static char greeting[kMaxLine];
  ReadLine(c, greeting);
  if (strncmp(greeting, "* OK", 4) != 0) Fail("unexpected greeting: %s", greeting);

  struct Reply r;
  Quote(user, q_user, sizeof q_user);
  Quote(password, q_password, sizeof q_password);
  snprintf(command, sizeof command, "a1 LOGIN %s %s\r\n", q_user, q_password);
  Send(c, command);
  Await(c, "a1", &r);
  if (strncmp(r.status, "OK", 2) != 0) Fail("LOGIN refused: %s", r.status);

  Quote(folder, q_folder, sizeof q_folder);
  snprintf(command, sizeof command, "a2 EXAMINE %s\r\n", q_folder);
  Send(c, command);
  Await(c, "a2", &r);
  if (strncmp(r.status, "OK", 2) != 0) Fail("EXAMINE refused: %s", r.status);

  const double f0 = Now();
  const unsigned long long before = c->received - (c->end - c->start);
  /* A UID set of a few thousand characters is fine for Dovecot and Cyrus. */
  size_t fetch_len = strlen(uids) + 64;
  char *fetch_command = malloc(fetch_len);
  if (fetch_command == NULL) Fail("out of memory");
  snprintf(fetch_command, fetch_len, "a3 UID FETCH %s (UID BODY.PEEK[])\r\n", uids);
  Send(c, fetch_command);
  free(fetch_command);
  struct Reply fetch;
  Await(c, "a3", &fetch);
  const unsigned long long wire = c->received - (c->end - c->start) - before;
  const double f1 = Now();
  if (strncmp(fetch.status, "OK", 2) != 0) Fail("UID FETCH refused: %s", fetch.status);

  Send(c, "a4 LOGOUT\r\n");
  Await(c, "a4", &r);
  SSL_shutdown(c->ssl);
  close(fd);
  const double t1 = Now();

  printf("{\"tool\": \"raw_drain\", \"messages\": %llu, \"literals\": %llu, "
         "\"literal_bytes\": %llu, \"wire_bytes\": %llu, \"seconds\": %.4f, "
         "\"fetch_seconds\": %.4f, \"tls\": \"%s %s\"}\n",
         fetch.fetches, fetch.literals, fetch.literal_bytes, wire, t1 - t0, f1 - f0,
         SSL_get_version(c->ssl), SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
  SSL_free(c->ssl);
  SSL_CTX_free(ctx);
  return 0;
}
