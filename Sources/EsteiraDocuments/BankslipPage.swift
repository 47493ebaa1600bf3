import EsteiraCore
import Foundation
import Mustache

/// The bankslip as a printable page, in Portuguese, a document of its own: the digitable line,
/// the barcode in Interleaved 2 of 5 and the PIX QR code, both drawn as SVG. The API serves it
/// (`GET /v1/debts/{id}/bankslip.html`) and the debtor's e-mail carries it as an attachment.
public enum BankslipPage {
    /// What the page shows besides the slip itself.
    public struct Context: Sendable {
        public var externalID: String
        public var payer: String
        public var settings: CollectionSettings

        public init(externalID: String, payer: String, settings: CollectionSettings) {
            self.externalID = externalID
            self.payer = payer
            self.settings = settings
        }
    }

    public static func html(_ slip: Bankslip, _ context: Context) throws -> String {
        let values: [String: Any] = [
            "external_id": context.externalID, "payer": context.payer, "beneficiary": context.settings.beneficiaryName,
            "wallet": context.settings.wallet, "our_number": slip.ourNumber, "amount": Money.brazilian(cents: slip.amountCents),
            "due": slip.dueDate.brazilian, "digitable_line": slip.digitableLine, "pix": slip.pixPayload,
            "qr_svg": try QRCode(bytes: Array(slip.pixPayload.utf8)).svg(pixels: 220),
            "barcode_svg": InterleavedTwoOfFive.svg(slip.barcode, narrow: 1.5, height: 60) ?? "",
        ]
        return Documents.library.render(values, withTemplate: "boleto") ?? ""
    }

    /// The slip's CSS, inline so that the page stands alone (it is also an e-mail's attachment);
    /// served over HTTP, it is allowed by its hash in the Content-Security-Policy.
    public static let style = """
    body{font-family:system-ui,sans-serif;max-width:46rem;margin:1rem auto;padding:0 1rem;color:#111}
    table{border-collapse:collapse;width:100%}td{border:1px solid #999;padding:.35rem .5rem;vertical-align:top}
    td small{display:block;color:#555;font-size:.7rem}.linha{font:600 1.05rem ui-monospace,monospace;letter-spacing:.02em}
    #codigo-de-barras{margin-top:1rem}
    .pix{display:flex;gap:1rem;align-items:center;margin-top:1rem}.pix code{word-break:break-all;font-size:.75rem}
    @media print{body{margin:0}}
    """

    /// A bankslip to print, a document of its own (not in the signed-in layout): the barcode and
    /// the QR code are SVG drawn by `InterleavedTwoOfFive` and `QRCode`.
    static let template = #"""
    <!doctype html>
    <html lang="pt-BR"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Boleto {{external_id}}</title>
    <style>\#(style)</style></head>
    <body>
    <p class="linha" id="linha-digitavel">{{digitable_line}}</p>
    <table>
    <tr><td colspan="2"><small>Beneficiário</small>{{beneficiary}}</td><td><small>Vencimento</small><b id="vencimento">{{due}}</b></td></tr>
    <tr><td><small>Pagador</small>{{payer}}</td><td><small>Nosso número</small>{{wallet}}/{{our_number}}</td>
    <td><small>Valor do documento</small><b id="valor">{{amount}}</b></td></tr>
    <tr><td colspan="3"><small>Referência</small>Dívida {{external_id}}</td></tr>
    </table>
    <div id="codigo-de-barras">{{{barcode_svg}}}</div>
    <div class="pix"><div id="qrcode">{{{qr_svg}}}</div>
    <div><p><b>Pague com PIX</b>: aponte a câmera do app do seu banco para o código ou use o PIX copia e cola:</p>
    <code id="pix">{{pix}}</code></div></div>
    </body></html>
    """#
}
