/// A client's collection settings: where debtors pay, by boleto and by PIX.
public struct CollectionSettings: Sendable, Equatable, Codable {
    /// FEBRABAN bank code: Bradesco (237) or Itaú (341), whose free fields are built.
    public var bank: String
    public var agency: String
    public var account: String
    public var wallet: String
    public var pixKey: String
    public var beneficiaryName: String
    public var beneficiaryCity: String
    /// The slip falls due this many days after it is issued.
    public var dueDays: Int

    public init(bank: String, agency: String, account: String, wallet: String, pixKey: String,
                beneficiaryName: String, beneficiaryCity: String, dueDays: Int) {
        self.bank = bank
        self.agency = agency
        self.account = account
        self.wallet = wallet
        self.pixKey = pixKey
        self.beneficiaryName = beneficiaryName
        self.beneficiaryCity = beneficiaryCity
        self.dueDays = dueDays
    }

    public static let supportedBanks = ["237", "341"]

    /// The first problem with the settings, as (field, Portuguese message), or nil.
    public func problem() -> (field: String, message: String)? {
        func digits(_ s: String, _ max: Int) -> Bool { !s.isEmpty && s.count <= max && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if !Self.supportedBanks.contains(bank) { return ("bank", "Banco \(bank) ainda não suportado; use 237 (Bradesco) ou 341 (Itaú).") }
        let itau = bank == "341"
        if !digits(agency, 4) { return ("agency", "A agência deve ter até 4 dígitos, sem o dígito verificador.") }
        if !digits(account, itau ? 5 : 7) { return ("account", "A conta deve ter até \(itau ? 5 : 7) dígitos, sem o dígito verificador.") }
        if !digits(wallet, itau ? 3 : 2) { return ("wallet", "A carteira deve ter até \(itau ? 3 : 2) dígitos.") }
        if pixKey.isEmpty || pixKey.count > 77 { return ("pix_key", "Informe a chave PIX (até 77 caracteres).") }
        if PixBRCode.plain(beneficiaryName).isEmpty { return ("beneficiary_name", "Informe o nome do beneficiário.") }
        if PixBRCode.plain(beneficiaryCity).isEmpty { return ("beneficiary_city", "Informe a cidade do beneficiário.") }
        if !(1...180).contains(dueDays) { return ("due_days", "O prazo de vencimento deve ser de 1 a 180 dias.") }
        return nil
    }
}

/// One slip: what the debtor pays with, by boleto (barcode, digitable line) or by PIX.
public struct Bankslip: Sendable, Equatable {
    public var ourNumber: Int64
    public var amountCents: Int64
    public var dueDate: Day
    public var barcode: String
    public var digitableLine: String
    public var pixPayload: String

    public init(ourNumber: Int64, amountCents: Int64, dueDate: Day, barcode: String, digitableLine: String, pixPayload: String) {
        self.ourNumber = ourNumber
        self.amountCents = amountCents
        self.dueDate = dueDate
        self.barcode = barcode
        self.digitableLine = digitableLine
        self.pixPayload = pixPayload
    }

    /// Makes the slips of one beneficiary: what is the same for all of them is prepared once. A
    /// slip is numbered `ourNumber` (the client's sequence); the PIX transaction id ties the
    /// payment back to it: `E` and the our-number.
    public struct Issuer: Sendable {
        let settings: CollectionSettings
        let pix: PixBRCode.Template

        public init(_ settings: CollectionSettings) throws {
            self.settings = settings
            pix = try PixBRCode.Template(key: settings.pixKey, name: settings.beneficiaryName, city: settings.beneficiaryCity)
        }

        public func make(ourNumber: Int64, amountCents: Int64, dueDate: Day) throws -> Bankslip {
            let s = settings
            let free = s.bank == "341"
                ? try Boleto.FreeField.itau(agency: s.agency, wallet: s.wallet, ourNumber: String(ourNumber), account: s.account)
                : try Boleto.FreeField.bradesco(agency: s.agency, wallet: s.wallet, ourNumber: String(ourNumber), account: s.account)
            let barcode = try Boleto.barcode(bank: s.bank, dueFactor: try Boleto.dueFactor(dueDate), amountCents: amountCents, freeField: free)
            return Bankslip(ourNumber: ourNumber, amountCents: amountCents, dueDate: dueDate, barcode: barcode,
                            digitableLine: try Boleto.digitableLine(barcode: barcode),
                            pixPayload: try pix.payload(amountCents: amountCents, txid: "E\(ourNumber)"))
        }
    }
}
