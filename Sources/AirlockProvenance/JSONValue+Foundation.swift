import AirlockCore
import Foundation

extension JSONValue {
    /// Convert a `JSONSerialization` result. JSON booleans arrive as NSNumbers whose `objCType`
    /// is `c`; other numbers map to `int`, `uint` (above `Int64.max`) or `double`.
    init?(foundation value: Any) {
        switch value {
        case is NSNull:
            self = .null
        case let s as String:
            self = .string(s)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            case "Q", "L", "I", "S": self = .uint(n.uint64Value)
            default: self = .int(n.int64Value)
            }
        case let a as [Any]:
            var items: [JSONValue] = []
            items.reserveCapacity(a.count)
            for item in a {
                guard let v = JSONValue(foundation: item) else { return nil }
                items.append(v)
            }
            self = .array(items)
        case let o as [String: Any]:
            var members: [String: JSONValue] = [:]
            for (k, item) in o {
                guard let v = JSONValue(foundation: item) else { return nil }
                members[k] = v
            }
            self = .object(members)
        default:
            return nil
        }
    }

    /// The member `key` of an object, or nil.
    subscript(member key: String) -> JSONValue? {
        if case let .object(members) = self { return members[key] }
        return nil
    }

    /// The string value, or nil.
    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }
}
