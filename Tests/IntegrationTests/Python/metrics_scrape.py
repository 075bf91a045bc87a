#!/usr/bin/env python3
"""A Prometheus scrape of the daemon's /metrics, for the integration tests.

The Swift tests check the metrics endpoint with a parser that is not the
daemon's own: this script fetches the page over TCP (http or https) or over
a Unix socket and parses it with prometheus_client's text-format parser
(prometheus_client.parser.text_string_to_metric_families). It needs only
prometheus_client.

Usage (one JSON object on stdout, exit 0 when the page was fetched and parsed):
  metrics_scrape.py URL [--unix-socket PATH] [--ca-file PEM]

URL is http://HOST:PORT/metrics or https://HOST:PORT/metrics. With
--unix-socket the request goes over that socket instead (the URL's path is
asked for, with Host: localhost; an https URL means TLS over the socket). For
https, --ca-file verifies the server's chain and its name (an IP address in
the URL must be an IP SAN); without it the certificate is not verified.

The page must answer 200 with Content-Type text/plain; version=0.0.4 (a
charset, if given, must be utf-8) and no Content-Encoding. The request times
out after 10 s. Any failure (connection, TLS, status, content type, parse)
exits 1 with a message on stderr and nothing on stdout.

Output:
  {"families": [{"name", "type", "help",
                 "samples": [{"name", "labels": {...}, "value"}]}],
   "peer_certificate_sha256": hex of the DER server certificate (https) or null}

As prometheus_client parses, not as written:
  - a counter family's name loses its _total suffix (the page's
    container_runtime_crio_operations_total is the family
    container_runtime_crio_operations); its samples keep the name as parsed,
    container_runtime_crio_operations_total (a counter declared without
    _total gets _total appended to its sample names);
  - a family with no TYPE line (or a sample that does not belong to the TYPE
    before it) comes out as its own family of type "unknown";
  - summaries and histograms keep their names; their samples are NAME (with a
    quantile label), NAME_bucket (with an le label), NAME_sum, NAME_count.
Values are floats; NaN and the infinities, which JSON has no numbers for, are
the strings "NaN", "+Inf" and "-Inf" (the spelling of the text format, and
what Swift's JSONDecoder reads with .convertFromString(positiveInfinity:
"+Inf", negativeInfinity: "-Inf", nan: "NaN")).

prometheus_client is laxer than Go's parsers, so these fail too: a body that
is not UTF-8 or whose last line has no newline (Go's expfmt refuses both), a
second TYPE or HELP line for one metric name, two families of one name (as
parsed, counters apart: the samples of a family split by another's, or a
sample that is not the TYPE's, like a histogram's bare NAME), and one series
(sample name and labels) given twice. Go's go_memstats_alloc_bytes (gauge)
beside go_memstats_alloc_bytes_total (counter) is no clash.
"""

import argparse
import hashlib
import http.client
import json
import math
import socket
import ssl
import sys
import urllib.parse

from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = 10


class Failure(Exception):
    pass


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class UnixHTTPSConnection(http.client.HTTPSConnection):
    """TLS over a Unix socket; the certificate is checked against server_name."""

    def __init__(self, path, server_name, timeout, context):
        super().__init__("localhost", timeout=timeout, context=context)
        self.unix_path = path
        self.server_name = server_name

    def connect(self):
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.settimeout(self.timeout)
        raw.connect(self.unix_path)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.server_name)


def tls_context(ca_file):
    if ca_file is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as error:  # ssl.SSLError too
        raise Failure("cannot load CA file %s: %s" % (ca_file, error)) from None


def fetch(url, unix_socket, ca_file):
    """Returns (body bytes, DER peer certificate or None)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Failure("URL must be http://HOST:PORT/PATH or https://HOST:PORT/PATH: " + url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    context = tls_context(ca_file) if parts.scheme == "https" else None
    if unix_socket is not None:
        if context is None:
            connection = UnixHTTPConnection(unix_socket, TIMEOUT)
        else:
            connection = UnixHTTPSConnection(unix_socket, parts.hostname, TIMEOUT, context)
    elif context is None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    else:
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=TIMEOUT, context=context)
    where = unix_socket if unix_socket is not None else parts.netloc
    try:
        connection.request("GET", target, headers={"Accept": "text/plain"})
        certificate = None
        if context is not None:
            certificate = connection.sock.getpeercert(binary_form=True)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise Failure("GET %s via %s failed: %s: %s"
                      % (target, where, type(error).__name__, error)) from None
    finally:
        connection.close()
    if response.status != 200:
        raise Failure("GET %s via %s: HTTP %d %s: %r"
                      % (target, where, response.status, response.reason, body[:200]))
    check_content_type(response.getheader("Content-Type"))
    encoding = response.getheader("Content-Encoding")
    if encoding not in (None, "", "identity"):
        raise Failure("unexpected Content-Encoding %r (none was accepted)" % encoding)
    return body, certificate


def check_content_type(value):
    if value is None:
        raise Failure("no Content-Type")
    media, *parameters = [part.strip() for part in value.split(";")]
    params = {}
    for parameter in parameters:
        key, _, param = parameter.partition("=")
        params[key.strip().lower()] = param.strip().strip('"')
    if media.lower() != "text/plain" or params.get("version") != "0.0.4":
        raise Failure("Content-Type is %r, not text/plain; version=0.0.4" % value)
    if params.get("charset", "utf-8").lower() != "utf-8":
        raise Failure("Content-Type is %r: charset is not utf-8" % value)


def check_metadata_lines(text):
    """Prometheus' own parser refuses a second TYPE or HELP line for one name."""
    seen = set()
    for line_number, line in enumerate(text.split("\n"), 1):
        words = line.strip().split(None, 3)
        if len(words) >= 3 and words[0] == "#" and words[1] in ("TYPE", "HELP"):
            key = (words[1], words[2])
            if key in seen:
                raise Failure("line %d: second %s line for %s" % (line_number, words[1], words[2]))
            seen.add(key)


def number(value):
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def parse(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Failure("body is not UTF-8: %s" % error) from None
    if text and not text.endswith("\n"):
        raise Failure("body does not end with a newline")
    check_metadata_lines(text)
    families = []
    seen = {}
    series = set()
    # Counters declared as X and X_total (CRI-O serves deprecated names
    # beside their successors, e.g. ..._image_layer_reuse and
    # ..._image_layer_reuse_total) both parse to family X with samples
    # X_total: two families of one name then, told apart by occurrence.
    declared = set()
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) == 4 and parts[:2] == ["#", "TYPE"] and parts[3] == "counter":
            declared.add(parts[2])
    try:
        for family in text_string_to_metric_families(text):
            # A counter family's name has lost _total: it may meet a gauge's.
            key = (family.name, family.type == "counter")
            occurrence = seen.get(key, 0)
            allowed = 1
            if family.type == "counter":
                allowed = max(1, len({family.name, family.name + "_total"} & declared))
            if occurrence >= allowed:
                raise Failure("metric family %s given twice (samples apart from their TYPE block?)"
                              % family.name)
            seen[key] = occurrence + 1
            samples = []
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())), occurrence)
                if key in series:
                    raise Failure("series given twice: %s%s" % (sample.name, sample.labels))
                series.add(key)
                samples.append({"name": sample.name, "labels": dict(sample.labels),
                                "value": number(sample.value)})
            families.append({"name": family.name, "type": family.type,
                             "help": family.documentation, "samples": samples})
    except (ValueError, TypeError, IndexError, KeyError) as error:
        # prometheus_client signals a bad line with ValueError, at times bare.
        raise Failure("parse error: %s: %s" % (type(error).__name__, error or "(no message)")) from None
    return families


def main(argv):
    arguments = argparse.ArgumentParser(
        description="Scrape a Prometheus text-format page and print it as JSON.")
    arguments.add_argument("url")
    arguments.add_argument("--unix-socket", metavar="PATH")
    arguments.add_argument("--ca-file", metavar="PEM")
    options = arguments.parse_args(argv[1:])
    try:
        body, certificate = fetch(options.url, options.unix_socket, options.ca_file)
        families = parse(body)
    except Failure as error:
        print("metrics_scrape.py: %s" % error, file=sys.stderr)
        return 1
    result = {
        "families": families,
        "peer_certificate_sha256":
            hashlib.sha256(certificate).hexdigest() if certificate is not None else None,
    }
    json.dump(result, sys.stdout, allow_nan=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
