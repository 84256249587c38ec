import Foundation
import Testing
import Venues

@Suite struct CredentialsFileTests {
    func write(_ text: String, mode: Int) throws -> String {
        let path = NSTemporaryDirectory() + "aitrader-credentials-\(UUID().uuidString).env"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func aPrivateFileIsReadAsNameValueLines() throws {
        let path = try write("""
            # Alpaca paper keys
            APCA_API_KEY_ID=PKTEST1234
            export APCA_API_SECRET_KEY = "s3cr3t value"

            APCA_API_BASE_URL='http://127.0.0.1:8080'
            """, mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let values = try CredentialsFile.load(path)
        #expect(values == ["APCA_API_KEY_ID": "PKTEST1234", "APCA_API_SECRET_KEY": "s3cr3t value",
                           "APCA_API_BASE_URL": "http://127.0.0.1:8080"])
    }

    @Test func aFileOthersCanReadIsRefusedWithoutReadingIt() throws {
        for mode in [0o644, 0o640, 0o604] {
            let path = try write("APCA_API_SECRET_KEY=do-not-print-me\n", mode: mode)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: CredentialsFile.Error.self) { try CredentialsFile.load(path) }
            #expect(error?.description.contains("chmod 600") == true)
            #expect(error?.description.contains("do-not-print-me") == false)
        }
    }

    @Test func badLinesAndMissingFilesAreNamed() throws {
        let path = try write("APCA_API_KEY_ID=x\nthis line has no equals sign secret\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: CredentialsFile.Error.self) { try CredentialsFile.load(path) }
        #expect(error?.description == "\(path):2: expected NAME=value")
        let missing = #expect(throws: CredentialsFile.Error.self) { try CredentialsFile.load(path + ".missing") }
        #expect(missing?.description.contains("No such file") == true)
    }
}
