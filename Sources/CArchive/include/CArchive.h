// libarchive, opened on the first layer unpack rather than linked: linked,
// it brings libxml2, ICU's libicuuc and six compression libraries into
// every daemon from its first instant (1 MiB of resident pages and their
// relocations at start-up), for the pulls that most nodes do now and then.
//
// Each libarchive function the daemon calls has a `crio_` twin of the same
// type that calls it through the loaded library. archive.h gives the types
// and constants (libarchive-dev at build time only).
#ifndef CRIO_CARCHIVE_H
#define CRIO_CARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

/// The soname opened; package.sh names the package that holds it.
#define CRIO_LIBARCHIVE_SONAME "libarchive.so.13"

/// Opens libarchive once (later calls return at once). NULL when it is
/// loaded; otherwise why not, as a sentence for the pull's error.
const char *crio_archive_load(void);

// Call only after crio_archive_load() returned NULL: the reader is the way
// to everything else, so only it checks.
__typeof__(archive_read_new) crio_archive_read_new;
__typeof__(archive_read_free) crio_archive_read_free;
__typeof__(archive_read_open) crio_archive_read_open;
__typeof__(archive_read_support_filter_gzip) crio_archive_read_support_filter_gzip;
__typeof__(archive_read_support_filter_zstd) crio_archive_read_support_filter_zstd;
__typeof__(archive_read_support_format_raw) crio_archive_read_support_format_raw;
__typeof__(archive_read_support_format_tar) crio_archive_read_support_format_tar;
__typeof__(archive_read_next_header) crio_archive_read_next_header;
__typeof__(archive_read_data) crio_archive_read_data;
__typeof__(archive_read_data_block) crio_archive_read_data_block;
__typeof__(archive_error_string) crio_archive_error_string;
__typeof__(archive_entry_pathname) crio_archive_entry_pathname;
__typeof__(archive_entry_pathname_utf8) crio_archive_entry_pathname_utf8;
__typeof__(archive_entry_hardlink) crio_archive_entry_hardlink;
__typeof__(archive_entry_hardlink_utf8) crio_archive_entry_hardlink_utf8;
__typeof__(archive_entry_symlink) crio_archive_entry_symlink;
__typeof__(archive_entry_symlink_utf8) crio_archive_entry_symlink_utf8;
__typeof__(archive_entry_filetype) crio_archive_entry_filetype;
__typeof__(archive_entry_perm) crio_archive_entry_perm;
__typeof__(archive_entry_uid) crio_archive_entry_uid;
__typeof__(archive_entry_gid) crio_archive_entry_gid;
__typeof__(archive_entry_rdevmajor) crio_archive_entry_rdevmajor;
__typeof__(archive_entry_rdevminor) crio_archive_entry_rdevminor;
__typeof__(archive_entry_size) crio_archive_entry_size;
__typeof__(archive_entry_size_is_set) crio_archive_entry_size_is_set;
__typeof__(archive_entry_mtime) crio_archive_entry_mtime;
__typeof__(archive_entry_mtime_nsec) crio_archive_entry_mtime_nsec;
__typeof__(archive_entry_mtime_is_set) crio_archive_entry_mtime_is_set;
__typeof__(archive_entry_atime) crio_archive_entry_atime;
__typeof__(archive_entry_atime_nsec) crio_archive_entry_atime_nsec;
__typeof__(archive_entry_atime_is_set) crio_archive_entry_atime_is_set;
__typeof__(archive_entry_xattr_reset) crio_archive_entry_xattr_reset;
__typeof__(archive_entry_xattr_next) crio_archive_entry_xattr_next;

#endif
