import Crypto
import EsteiraDocuments
import Foundation
import HTTPTypes

/// The Content-Security-Policy of each kind of page, none with `unsafe-inline`. A page's CSS is
/// inline (nothing to fetch before it shows, and the bankslip stands alone as an attachment) and
/// allowed by its SHA-256, computed once from the same constant the template writes; scripts
/// come only from files Esteira serves (`/app/lote.js`). No page may be framed.
enum ContentSecurityPolicy {
    static let name = HTTPField.Name("Content-Security-Policy")!

    /// `'sha256-…'` of a style block's exact text.
    static func hash(_ text: String) -> String {
        "'sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() + "'"
    }

    /// `/app`: its own script file and the status it polls.
    static let clientPages = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src \(hash(WebTemplates.style)); "
        + "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    /// `/ops`: no script at all.
    static let console = "default-src 'none'; style-src \(hash(ConsoleTemplates.style)); img-src 'self'; form-action 'self'; "
        + "base-uri 'none'; frame-ancestors 'none'"
    /// The printable bankslip: its CSS and its drawings, which are inline SVG.
    static let bankslip = "default-src 'none'; style-src \(hash(BankslipPage.style)); img-src data:; base-uri 'none'; "
        + "form-action 'none'; frame-ancestors 'none'"
    /// Any other HTML (an error page): nothing but its text.
    static let plain = "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
