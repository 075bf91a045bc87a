/// crio.conf(5), made from the schema the loader reads, so the page lists
/// exactly the keys the daemon knows, with their defaults and descriptions.
extension CrioConfig {
  /// The page in roff (`man -l`); `self` supplies the defaults shown.
  public func renderManPage(version: String, date: String) -> String {
    var page = """
      .TH CRIO.CONF 5 "\(date)" "crio \(Roff.escape(version))" "File Formats Manual"
      .SH NAME
      crio.conf \\- configuration of the crio container runtime daemon
      .SH DESCRIPTION
      \\fBcrio\\fR reads \\fI/etc/crio/crio.conf\\fR, then every \\fI*.conf\\fR file of \\fI/etc/crio/crio.conf.d\\fR
      in lexical order (a later file overrides only the keys it sets), then its command-line flags.
      The files are TOML, in the layout of CRI-O's crio.conf; \\fBcrio config\\fR prints the effective
      configuration in this format. An unknown key is warned about; a value of the wrong type or out of
      range stops the daemon with the file, the key and what was expected.
      Each key below is shown with its default.

      """
    for (path, doc) in ConfigSchema.tables {
      page += ".SH \(Roff.escape("[\(path)]").uppercased())\n\(Roff.escape(doc))\n"
      for key in ConfigSchema.keys where key.table == path {
        page += Self.entry(key.name, key.get(self), key.renderedDoc)
      }
      if path == "crio.runtime" {
        page += ".SS [crio.runtime.runtimes.\\fIHANDLER\\fB]\n"
        page += "One table per runtime handler, named as kubelet's RuntimeClass handler; its keys:\n"
        let handler = runtime.runtimes[runtime.defaultRuntime] ?? RuntimeHandler()
        for key in ConfigSchema.handlerKeys {
          page += Self.entry(key.name, key.get(handler), key.renderedDoc)
        }
      }
    }
    page += """
      .SH FILES
      .TP
      \\fI/etc/crio/crio.conf\\fR
      The main configuration file.
      .TP
      \\fI/etc/crio/crio.conf.d/*.conf\\fR
      Drop-in files, applied in lexical order.
      .SH SEE ALSO
      \\fBcrio\\fR(8), \\fBcontainers-registries.conf\\fR(5), \\fBcontainers-policy.json\\fR(5)

      """
    return page
  }

  private static func entry(_ name: String, _ value: ConfigValue, _ doc: String) -> String {
    let shown: String
    switch value {
    case .strings(let list): shown = "[" + list.map { TOMLText.quoted($0) }.joined(separator: ", ") + "]"
    default: shown = TOMLText.value(value)
    }
    return ".TP\n\\fB\(Roff.escape(name))\\fR = \(Roff.escape(shown))\n\(Roff.escape(doc))\n"
  }
}

/// Text made safe for roff: backslashes escaped, hyphens as minus signs
/// where they are options, and no line may start with a control character.
public enum Roff {
  public static func escape(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "\\": out += "\\e"
      case "-": out += "\\-"
      default: out.append(character)
      }
    }
    return out.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      line.first == "." || line.first == "'" ? "\\&" + line : String(line)
    }.joined(separator: "\n")
  }
}
