extension JSONValue {
    /// Compact JSON text (numbers as `JSONWriter` writes them: non-finite ones as `null`).
    public func serialized() -> String { String(decoding: serializedBytes(), as: UTF8.self) }

    public func serializedBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.value(self)
        return writer.bytes
    }
}
