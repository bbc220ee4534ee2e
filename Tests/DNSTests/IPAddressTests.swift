import DNS
import Testing

/// Which addresses a fetch on behalf of someone outside may connect to.
@Suite("IP addresses: public or not")
struct IPAddressTests {
    @Test("Loopback, private, shared, link-local, multicast, documentation and reserved ranges are not public")
    func notPublic() {
        for text in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.1.1", "0.0.0.0",
                     "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "224.0.0.1", "255.255.255.255", "192.0.0.8",
                     "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2001:db8::1", "100::1",
                     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "2002:7f00:1::", "2001:0:4136:e378::1",
                     "2001:2::1", "2001:10::1", "3fff::1"] {
            #expect(IPAddress(text)?.isPublic == false, "\(text)")
        }
    }

    @Test("Global unicast addresses are public")
    func publicAddresses() {
        for text in ["1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.128.0.1", "192.0.3.1", "2a00:1450:4001::1",
                     "2001:4860:4860::8888", "::ffff:9.9.9.9", "64:ff9b::808:808", "2002:808:808::1"] {
            #expect(IPAddress(text)?.isPublic == true, "\(text)")
        }
    }
}
