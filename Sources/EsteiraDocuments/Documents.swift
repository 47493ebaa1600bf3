import Mustache

/// What Esteira writes for people outside it to read, in Portuguese: the printable slip and the
/// e-mails to clients and debtors. Templates are Mustache (`{{x}}` escapes HTML; `{{{x}}}` is
/// used only for drawings Esteira makes itself).
public enum Documents {
    static let all: [String: String] = [
        "boleto": BankslipPage.template, "lote-email": BatchEmail.htmlTemplate, "boleto-email": SlipEmail.htmlTemplate,
        "alerta-email": AlertEmail.htmlTemplate,
        // A debt's notice is lines of text too, in the same frame as an alert's.
        "aviso-email": AlertEmail.htmlTemplate,
    ]

    /// Every template, registered once.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in all {
            // The templates are constants of this module; a test renders each.
            try! library.register(text, named: name)
        }
        return library
    }()

    /// `1.234.567`: a count as a Brazilian reads it.
    public static func count(_ n: Int) -> String {
        var digits = String(n.magnitude)
        var grouped = ""
        while digits.count > 3 {
            grouped = "." + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        return (n < 0 ? "-" : "") + digits + grouped
    }
}

/// An e-mail's three texts.
public struct EmailContent: Sendable {
    public var subject: String
    public var text: String
    public var html: String
}
