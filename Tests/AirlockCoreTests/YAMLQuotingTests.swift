import AirlockCore
import Testing

@Suite("YAML quoting")
struct YAMLQuotingTests {
    @Test(arguments: [
        "plain", "a \"quoted\" \\ path", "two\nlines\tand tab", "bell\u{07} del\u{7f} esc\u{1b}", "ünïcødé ✓", "",
    ])
    func roundTripsThroughTheParser(_ text: String) throws {
        let doc = "value: \(YAMLQuoting.doubleQuoted(text))\n"
        let root = try YAMLReader.parse(doc, file: "t.yaml")
        #expect(try root.mapping()["value"]?.string() ?? "" == text)
    }
}
