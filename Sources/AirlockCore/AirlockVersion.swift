/// The runner's version, recorded in provenance (`runDetails.builder.version`).
public enum AirlockVersion {
    public static let current = "0.2.0"
}
