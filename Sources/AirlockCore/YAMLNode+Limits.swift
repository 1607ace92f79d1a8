import Yams

extension YAMLNode {
    /// Throws when the tree, with every alias expanded, has more than `limits.maxNodes` nodes.
    ///
    /// Yams shares an aliased subtree instead of copying it, so composing is cheap, but every
    /// later walk (duplicate keys, the loaders) visits each copy. This walk is iterative and stops
    /// at the limit, so it costs at most `maxNodes` steps however the aliases nest. It backs up
    /// `YAMLStructureScan`, whose count is an estimate made before composing.
    func checkNodeCount(_ limits: StructureLimits) throws {
        var budget = limits.maxNodes
        var stack: [Node] = [node]
        while let next = stack.popLast() {
            budget -= 1
            if budget < 0 {
                let at = YAMLNode(node: next, file: file, path: "").location
                throw limits.tooManyNodes(file: file, line: at.line ?? 1, column: at.column ?? 1)
            }
            switch next {
            case .scalar: break
            case let .sequence(seq): stack.append(contentsOf: seq)
            case let .mapping(map):
                for (k, v) in map {
                    stack.append(k)
                    stack.append(v)
                }
            }
        }
    }
}
