import Foundation

/// The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as the time to come back.
public enum RetryAfter {
    /// The longest wait honoured: a server asking for more is asked again after a day.
    public static let maximum: TimeInterval = 86_400

    /// nil when the header is missing or is neither form.
    public static func parse(_ value: String?, now: Date) -> Date? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            guard let seconds = TimeInterval(value.prefix(9)) else { return nil }
            return now.addingTimeInterval(min(seconds, maximum))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        // IMF-fixdate, the form servers must send; RFC 850 and asctime are obsolete and ignored.
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(date, now), now.addingTimeInterval(maximum))
    }
}
