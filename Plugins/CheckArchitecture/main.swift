import Foundation
import PackagePlugin

/// `swift package check-architecture`: every target imports only what its layer allows.
///
/// - Domain: Foundation at most.
/// - Ports: Domain and Foundation.
/// - Adapters (targets under `Sources/Adapters/`): Domain, Ports, the standard library's system modules, and the
///   products and system-library targets the target itself declares (its technology). Never App, never another adapter.
/// - App and test targets: anything they declare.
@main
struct CheckArchitecture: CommandPlugin {
    static let system: Set<String> = ["Foundation", "FoundationEssentials", "Dispatch", "Synchronization", "Glibc", "Musl", "Darwin", "_Concurrency"]

    func performCommand(context: PluginContext, arguments: [String]) throws {
        var violations: [PluginError.Violation] = []
        var checked = 0
        for case let target as SwiftSourceModuleTarget in context.package.targets where target.kind != .test {
            guard let allowed = allowedImports(for: target, in: context.package) else { continue }
            checked += 1
            for file in target.sourceFiles(withSuffix: "swift") {
                let text = try String(contentsOf: file.url, encoding: .utf8)
                for (line, module) in Self.imports(in: text) where !allowed.contains(module) {
                    violations.append(.init(target: target.name, file: file.url.lastPathComponent, line: line, module: module, allowed: allowed))
                }
            }
        }
        guard violations.isEmpty else { throw PluginError.violations(violations) }
        print("check-architecture: \(checked) targets follow the layer rules")
    }

    /// The modules `target` may import; nil for targets without a rule (App).
    func allowedImports(for target: SwiftSourceModuleTarget, in package: Package) -> Set<String>? {
        let isAdapter = target.directoryURL.path.contains("/Sources/Adapters/")
        switch target.name {
        case "Domain": return ["Foundation", "FoundationEssentials"]
        case "Ports": return ["Foundation", "FoundationEssentials", "Domain"]
        case _ where !isAdapter: return nil
        default:
            var allowed = Self.system.union(["Domain", "Ports"])
            for dependency in target.dependencies {
                switch dependency {
                case .product(let product): allowed.formUnion(product.targets.map(\.name))
                // A C library wrapped by a system-library target (CHiredis) is the adapter's technology too.
                case .target(let dependency as SystemLibraryTarget): allowed.insert(dependency.name)
                default: break
                }
            }
            return allowed
        }
    }

    /// `(line number, module)` of every import declaration, whatever its attributes and access level.
    static func imports(in text: String) -> [(Int, String)] {
        var found: [(Int, String)] = []
        let modifiers: Set<String> = ["@testable", "@_exported", "@preconcurrency", "public", "package", "internal", "private", "fileprivate"]
        let kinds: Set<String> = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            while let first = words.first, modifiers.contains(first) || first.hasPrefix("@_implementationOnly") { words.removeFirst() }
            guard words.first == "import", words.count >= 2 else { continue }
            var module = words[1]
            if kinds.contains(module), words.count >= 3 { module = words[2] }
            found.append((number + 1, String(module.split(separator: ".").first ?? "")))
        }
        return found
    }
}

enum PluginError: Error, CustomStringConvertible {
    struct Violation {
        var target: String
        var file: String
        var line: Int
        var module: String
        var allowed: Set<String>
    }

    case violations([Violation])

    var description: String {
        switch self {
        case .violations(let list):
            let lines = list.map { v in
                "  \(v.target)/\(v.file):\(v.line): imports '\(v.module)'; \(v.target) may import only \(v.allowed.sorted().joined(separator: ", "))"
            }
            return """
                check-architecture: \(list.count) import(s) break the layer rules
                \(lines.joined(separator: "\n"))
                Fix: move the code to the layer that owns that dependency (App wires adapters together; adapters talk to each \
                other only through Ports), or declare the technology as a product dependency of the adapter in Package.swift.
                """
        }
    }
}
