/// The release every Palisade binary reports (`platformctl version`, `/healthz`, logs at start).
public enum PalisadeVersion {
    public static let current = "0.1.0"
}
