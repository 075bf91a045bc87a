/// The preset dictionary SPDY/3 header compression starts both zlib streams
/// with (SPDY/3 draft, section 2.6.10.1). It is 1,423 bytes: 65 common header
/// names and values, each behind a 4-byte big-endian length, then a run of
/// status codes, reason phrases, dates and content types with no framing.
/// Written here in that shape rather than as a byte table so a reader can
/// check it against the draft; the unit tests pin its size and Adler-32.
enum SPDYHeaderDictionary {
  static let bytes: [UInt8] = {
    var out: [UInt8] = []
    out.reserveCapacity(1423)
    for word in lengthPrefixedWords {
      let length = UInt32(word.utf8.count)
      out += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
      out += word.utf8
    }
    out += trailer.utf8
    return out
  }()

  private static let lengthPrefixedWords = [
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type",
    "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
    "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
    "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
  ]

  private static let trailer =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    + "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    + "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    + "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    + "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    + "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
}
