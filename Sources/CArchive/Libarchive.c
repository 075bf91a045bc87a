#include "CArchive.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

// Every function called, in one table filled by crio_archive_load.
#define LIBARCHIVE_FUNCTIONS(X) \
  X(archive_read_new) X(archive_read_free) X(archive_read_open) \
  X(archive_read_support_filter_gzip) X(archive_read_support_filter_zstd) \
  X(archive_read_support_format_raw) X(archive_read_support_format_tar) \
  X(archive_read_next_header) X(archive_read_data) X(archive_read_data_block) \
  X(archive_error_string) \
  X(archive_entry_pathname) X(archive_entry_pathname_utf8) \
  X(archive_entry_hardlink) X(archive_entry_hardlink_utf8) \
  X(archive_entry_symlink) X(archive_entry_symlink_utf8) \
  X(archive_entry_filetype) X(archive_entry_perm) X(archive_entry_uid) X(archive_entry_gid) \
  X(archive_entry_rdevmajor) X(archive_entry_rdevminor) \
  X(archive_entry_size) X(archive_entry_size_is_set) \
  X(archive_entry_mtime) X(archive_entry_mtime_nsec) X(archive_entry_mtime_is_set) \
  X(archive_entry_atime) X(archive_entry_atime_nsec) X(archive_entry_atime_is_set) \
  X(archive_entry_xattr_reset) X(archive_entry_xattr_next)

#define FIELD(name) __typeof__(name) *name;
static struct {
  LIBARCHIVE_FUNCTIONS(FIELD)
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];
static int loaded;

static void load(void) {
  // RTLD_LOCAL: its symbols serve only this table, never the daemon's
  // other libraries.
  void *library = dlopen(CRIO_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    const char *why = dlerror();
    snprintf(failure, sizeof failure, "cannot load %s (install libarchive): %s", CRIO_LIBARCHIVE_SONAME,
             why ? why : "unknown error");
    return;
  }
#define RESOLVE(name)                                                                          \
  if ((api.name = (__typeof__(name) *)dlsym(library, #name)) == NULL) {                        \
    snprintf(failure, sizeof failure, "%s has no %s: libarchive is too old", CRIO_LIBARCHIVE_SONAME, #name); \
    return;                                                                                    \
  }
  LIBARCHIVE_FUNCTIONS(RESOLVE)
  loaded = 1;
}

const char *crio_archive_load(void) {
  pthread_once(&once, load);
  return loaded ? NULL : failure;
}

struct archive *crio_archive_read_new(void) {
  return crio_archive_load() == NULL ? api.archive_read_new() : NULL;
}
int crio_archive_read_free(struct archive *a) { return api.archive_read_free(a); }
int crio_archive_read_open(struct archive *a, void *client, archive_open_callback *opener,
                           archive_read_callback *reader, archive_close_callback *closer) {
  return api.archive_read_open(a, client, opener, reader, closer);
}
int crio_archive_read_support_filter_gzip(struct archive *a) { return api.archive_read_support_filter_gzip(a); }
int crio_archive_read_support_filter_zstd(struct archive *a) { return api.archive_read_support_filter_zstd(a); }
int crio_archive_read_support_format_raw(struct archive *a) { return api.archive_read_support_format_raw(a); }
int crio_archive_read_support_format_tar(struct archive *a) { return api.archive_read_support_format_tar(a); }
int crio_archive_read_next_header(struct archive *a, struct archive_entry **entry) {
  return api.archive_read_next_header(a, entry);
}
la_ssize_t crio_archive_read_data(struct archive *a, void *buffer, size_t size) {
  return api.archive_read_data(a, buffer, size);
}
int crio_archive_read_data_block(struct archive *a, const void **buffer, size_t *size, la_int64_t *offset) {
  return api.archive_read_data_block(a, buffer, size, offset);
}
const char *crio_archive_error_string(struct archive *a) { return api.archive_error_string(a); }

const char *crio_archive_entry_pathname(struct archive_entry *e) { return api.archive_entry_pathname(e); }
const char *crio_archive_entry_pathname_utf8(struct archive_entry *e) { return api.archive_entry_pathname_utf8(e); }
const char *crio_archive_entry_hardlink(struct archive_entry *e) { return api.archive_entry_hardlink(e); }
const char *crio_archive_entry_hardlink_utf8(struct archive_entry *e) { return api.archive_entry_hardlink_utf8(e); }
const char *crio_archive_entry_symlink(struct archive_entry *e) { return api.archive_entry_symlink(e); }
const char *crio_archive_entry_symlink_utf8(struct archive_entry *e) { return api.archive_entry_symlink_utf8(e); }
__LA_MODE_T crio_archive_entry_filetype(struct archive_entry *e) { return api.archive_entry_filetype(e); }
__LA_MODE_T crio_archive_entry_perm(struct archive_entry *e) { return api.archive_entry_perm(e); }
la_int64_t crio_archive_entry_uid(struct archive_entry *e) { return api.archive_entry_uid(e); }
la_int64_t crio_archive_entry_gid(struct archive_entry *e) { return api.archive_entry_gid(e); }
dev_t crio_archive_entry_rdevmajor(struct archive_entry *e) { return api.archive_entry_rdevmajor(e); }
dev_t crio_archive_entry_rdevminor(struct archive_entry *e) { return api.archive_entry_rdevminor(e); }
la_int64_t crio_archive_entry_size(struct archive_entry *e) { return api.archive_entry_size(e); }
int crio_archive_entry_size_is_set(struct archive_entry *e) { return api.archive_entry_size_is_set(e); }
time_t crio_archive_entry_mtime(struct archive_entry *e) { return api.archive_entry_mtime(e); }
long crio_archive_entry_mtime_nsec(struct archive_entry *e) { return api.archive_entry_mtime_nsec(e); }
int crio_archive_entry_mtime_is_set(struct archive_entry *e) { return api.archive_entry_mtime_is_set(e); }
time_t crio_archive_entry_atime(struct archive_entry *e) { return api.archive_entry_atime(e); }
long crio_archive_entry_atime_nsec(struct archive_entry *e) { return api.archive_entry_atime_nsec(e); }
int crio_archive_entry_atime_is_set(struct archive_entry *e) { return api.archive_entry_atime_is_set(e); }
int crio_archive_entry_xattr_reset(struct archive_entry *e) { return api.archive_entry_xattr_reset(e); }
int crio_archive_entry_xattr_next(struct archive_entry *e, const char **name, const void **value, size_t *size) {
  return api.archive_entry_xattr_next(e, name, value, size);
}
