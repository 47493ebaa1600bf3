/// A debt that passed validation: what the registry keeps.
public struct Debt: Sendable, Equatable {
    public var externalID: String
    public var name: String
    public var document: TaxID
    public var amountCents: Int64
    public var dueDate: Day
    public var email: String?
    public var phone: String?
    public var description: String?

    public init(externalID: String, name: String, document: TaxID, amountCents: Int64, dueDate: Day,
                email: String?, phone: String?, description: String?) {
        self.externalID = externalID
        self.name = name
        self.document = document
        self.amountCents = amountCents
        self.dueDate = dueDate
        self.email = email
        self.phone = phone
        self.description = description
    }

    /// Two sends of the same debt: every field the client sent is equal.
    public func hasSameContent(as other: Debt) -> Bool { self == other }
}
