import Aliases
import Core
import Testing

/// The syntax and naming rules applied before the database is asked (no PostgreSQL needed).
@Suite("Address rules")
struct AddressRulesTests {
    let rules = AddressRules()

    @Test("Valid RFC 5321 dot-atoms are accepted and canonicalised", arguments: [
        ("Alice.Smith@Mail.Example", "alice.smith@mail.example"),
        ("o'brien+news@mail.example", "o'brien+news@mail.example"),
        ("a!#$%&*/=?^_`{|}~-@mail.example", "a!#$%&*/=?^_`{|}~-@mail.example"),
        ("\"plain\"@mail.example", "plain@mail.example"),
        ("x@bücher.example", "x@xn--bcher-kva.example"),
    ])
    func accepted(input: String, canonical: String) throws {
        #expect(try rules.parse(input).canonical == canonical)
    }

    @Test("Invalid, quoted, over-long and non-ASCII addresses are refused with the reason", arguments: [
        ("no-at-sign.example", "has no @"),
        ("a..b@mail.example", "misplaced dot"),
        (".a@mail.example", "misplaced dot"),
        ("a b@mail.example", "needs quoting"),
        ("\"a b\"@mail.example", "quoted local part"),
        (String(repeating: "a", count: 65) + "@mail.example", "longer than 64 octets"),
        ("a@" + String(repeating: "b", count: 250) + ".example", "254 octets"),
        ("a@[192.0.2.1]", "address literals"),
        ("jürgen@mail.example", "non-ASCII local part"),
        ("", "has no @"),
    ])
    func refused(input: String, reason: String) {
        do {
            _ = try rules.parse(input)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.code == .invalidAddress)
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test("aliases.smtputf8 admits UTF-8 local parts, NFC-normalised and lower-cased")
    func utf8() throws {
        let open = AddressRules(allowUTF8LocalParts: true)
        // "Jürgen" with a combining diaeresis (U+0308) normalises to the precomposed ü.
        let decomposed = try open.parse("Ju\u{0308}rgen@mail.example")
        #expect(decomposed.canonical == "j\u{00FC}rgen@mail.example")
        #expect(decomposed == (try open.parse("J\u{00FC}RGEN@mail.example")))
    }

    @Test("Reserved role names, with or without a +tag and in any case, are recognised", arguments: [
        ("postmaster@mail.example", true), ("PostMaster@mail.example", true), ("abuse+x@mail.example", true),
        ("admin@mail.example", true), ("hostmaster@mail.example", true), ("postmasters@mail.example", false),
        ("alice@mail.example", false), ("x+postmaster@mail.example", false),
    ])
    func reserved(input: String, isReserved: Bool) throws {
        #expect(rules.isReserved(try rules.parse(input)) == isReserved)
    }

    @Test("The reserved list is configurable")
    func configurableReserved() throws {
        let custom = AddressRules(reservedLocalParts: ["Billing"])
        #expect(custom.isReserved(try custom.parse("billing@mail.example")))
        #expect(!custom.isReserved(try custom.parse("postmaster@mail.example")))
    }
}
