import EsteiraCore
import Foundation

/// The e-mail a debtor gets with a new slip: amount, due date, digitable line and PIX copia e
/// cola in the body, and the printable slip (with its barcode and QR code) attached.
public enum SlipEmail {
    public static func compose(_ slip: Bankslip, _ context: BankslipPage.Context) throws -> (EmailContent, attachment: String) {
        let beneficiary = context.settings.beneficiaryName
        let amount = Money.brazilian(cents: slip.amountCents)
        let due = slip.dueDate.brazilian
        let subject = "Boleto de \(beneficiary): \(amount), vencimento \(due)"
        let text = """
            Olá, \(context.payer).

            Segue o boleto de \(beneficiary), referente à dívida \(context.externalID).

            Valor: \(amount)
            Vencimento: \(due)

            Linha digitável, para pagar no app ou no site do seu banco, em lotéricas ou caixas eletrônicos:
            \(slip.digitableLine)

            PIX copia e cola:
            \(slip.pixPayload)

            O boleto para imprimir, com o código de barras e o QR Code do PIX, está no anexo.

            Esta mensagem foi enviada automaticamente pela Esteira em nome de \(beneficiary).

            """
        let values: [String: Any] = [
            "payer": context.payer, "beneficiary": beneficiary, "external_id": context.externalID, "amount": amount, "due": due,
            "digitable_line": slip.digitableLine, "pix": slip.pixPayload,
        ]
        let html = Documents.library.render(values, withTemplate: "boleto-email") ?? ""
        return (EmailContent(subject: subject, text: text, html: html), try BankslipPage.html(slip, context))
    }

    static let htmlTemplate = #"""
    <!doctype html>
    <html lang="pt-BR"><head><meta charset="utf-8"><title>Boleto de {{beneficiary}}</title></head>
    <body style="font-family:system-ui,sans-serif;color:#1d2733;max-width:36rem">
    <p>Olá, {{payer}}.</p>
    <p>Segue o boleto de <b>{{beneficiary}}</b>, referente à dívida {{external_id}}.</p>
    <p>Valor: <b>{{amount}}</b><br>Vencimento: <b>{{due}}</b></p>
    <p>Linha digitável, para pagar no app ou no site do seu banco, em lotéricas ou caixas eletrônicos:<br>
    <code style="font-size:1rem">{{digitable_line}}</code></p>
    <p>PIX copia e cola:<br><code style="word-break:break-all">{{pix}}</code></p>
    <p>O boleto para imprimir, com o código de barras e o QR Code do PIX, está no anexo.</p>
    <p style="color:#5b6776;font-size:.85rem">Esta mensagem foi enviada automaticamente pela Esteira em nome de {{beneficiary}}.</p>
    </body></html>
    """#
}
