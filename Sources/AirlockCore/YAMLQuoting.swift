/// Writing YAML by hand (generated profiles, agent configs) without an emitter.
public enum YAMLQuoting {
    /// `s` as a YAML double-quoted scalar: backslash, quote and every control character
    /// (including DEL, which YAML does not allow unescaped) escaped.
    public static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let hex = String(u.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
