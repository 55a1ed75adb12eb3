import NIOCore
import Testing

@testable import WebSocket

/// The frame header the connection writer puts in front of each payload, against RFC 6455 §5.7's examples (text
/// opcode instead of binary for the longer ones) and the boundaries between the three length forms.
@Suite struct TextFrameHeader {
    static func header(_ length: Int) -> [UInt8] {
        var buffer = ByteBuffer()
        ConnectionWriter.writeTextFrameHeader(payloadLength: length, to: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test func `lengths below 126 fit in the second byte`() {
        #expect(Self.header(5) == [0x81, 0x05])  // RFC 6455 §5.7: "Hello", unmasked
        #expect(Self.header(0) == [0x81, 0x00])
        #expect(Self.header(125) == [0x81, 0x7D])
    }

    @Test func `lengths from 126 to 65535 take 16 more bits`() {
        #expect(Self.header(126) == [0x81, 0x7E, 0x00, 0x7E])
        #expect(Self.header(256) == [0x81, 0x7E, 0x01, 0x00])  // RFC 6455 §5.7: 256 bytes
        #expect(Self.header(65_535) == [0x81, 0x7E, 0xFF, 0xFF])
    }

    @Test func `longer ones take 64 more bits`() {
        #expect(Self.header(65_536) == [0x81, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])  // RFC 6455 §5.7: 64 KiB
        #expect(Self.header(1 << 20).count == ConnectionWriter.maximumHeaderSize)
    }
}
