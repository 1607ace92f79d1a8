import AirlockCore

extension AirlockError.Code {
    /// The OpenBao server could not be reached.
    public static let vaultUnreachable: Self = "vault.unreachable"
    /// The OpenBao server is sealed.
    public static let vaultSealed: Self = "vault.sealed"
    /// The runner's credentials were refused.
    public static let vaultAuth: Self = "vault.auth"
    /// A secret path the token may not read, or that does not exist.
    public static let vaultDenied: Self = "vault.denied"
    /// A secret, or a field of it, that does not exist.
    public static let vaultNotFound: Self = "vault.not-found"
    /// A request the broker refuses before issuing anything (TTL too long, bad path).
    public static let vaultRequest: Self = "vault.request"
    /// Any other unexpected answer from the server.
    public static let vaultServer: Self = "vault.server"
}
