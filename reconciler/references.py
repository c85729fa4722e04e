"""Finding invoice numbers in what payers write, and checking RF creditor references.

Remittance text from bank files is messy: ``INV 1234/1235/1236``, ``INVOICES 1001-1003``,
``Inv#s 1001, 1002 & 1003``, ``PMT INV1234 500.00 INV1235 250.00``, PO and account numbers,
dates and amounts next to the invoice numbers, OCR slips, references cut at a field's length
or split across two records. :func:`read_references` reads such text into references, each
saying how it was read, so the cascade can tell a number the payer labelled as an invoice
from one it had to guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from canonical.keys import document_key, fold, name_key, split_prefix

_OCR = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1", "S": "5", "B": "8"})
_RF = re.compile(r"^RF(\d{2})([0-9A-Z]{1,21})$")

_INVOICE_LABEL = (
    r"(?:invoices?|invoice\(s\)|invs?|invcs?|invce|inv\#s|"
    # typed or OCR'd: lnvoice, INVOlCE, Invoce, Invioce, lNV
    r"lnvoices?|invo[l1]ces?|inv0ices?|invoce|invioce|lnv|rechnung(?:en|s)?|rechn\b\.?|factures?|"
    r"facturas?|fatture|fattura|"
    r"factuur|facturen|faktur[ay](?:\s+vat)?|fakturor|fakturanr|bills?|re\s*inv(?:oice)?|"
    # Finnish lasku(numero), Italian and Portuguese FT (fattura, fatura)
    r"lasku(?:n)?(?:numero)?|ft\b\.?|"
    # Lithuanian sąskaita(-faktūra), Polish FV
    r"s[aą]skait(?:a|ą|os)(?:[\s-]+fakt[uū]r(?:a|ą|os))?|s[aą]sk\b\.?|fv\b\.?|"
    # German RE-Nr. / Rg.-Nr. / Rech.-Nr., French Fact., Spanish Fra., Italian Fatt., Polish
    # Fakt.: abbreviations
    r"r(?:e|g|ech)\.?\s*-?\s*nrn?\b\.?|rgnr\b\.?|fact\b\.?|fakt\b\.?|fra\b\.?|fras\b\.?|fatt\b\.?)"
)
_CREDIT_LABEL = (
    r"(?:credit\s*memos?|credit\s*notes?|cr\s*memos?|cr\s*notes?|cms?|cns?|c/ms?|c\.m\.?|"
    # CR and CREDIT alone are a bank's words for any credit (ACH CR, DIRECT CREDIT): a memo
    # only after LESS (and the like), or with #
    r"(?:less|minus|deduct(?:ed|ing)?|applied|apply|use|using)\s+(?:cr\b\.?|credits?)|"
    r"(?:cr|credits?)(?=\s*\#)|"
    # German Gutschrift (GS), French avoir / note de crédit, Dutch creditnota, Spanish abono
    # / nota de crédito, Italian nota di credito, Swedish kreditfaktura, Finnish hyvityslasku
    r"gutschrift(?:en)?|(?:abzgl|abz[uü]glich|minus|less)\.?\s+gs\b\.?|avoirs?|notes?\s+de\s+cr[eé]dit|credit\s*nota'?s?|"
    r"abonos?|notas?\s+de\s+cr[eé]dito|note?a?\s+di\s+credito|kreditfaktura|kreditnota|"
    r"hyvityslasku)"
)
# whitespace runs are possessive (*+): several optional runs in a row backtracked polynomially
# on a long run of spaces (a padded field) that ends in no number
_NUMBER_WORD = (
    r"(?:\.?\s*+-?\s*+(?:(?:nos?|n0|nrs?|nbrs?|numbers?|nummer|num(?:ero|éro)?|núm|ids?|n)\b\.?|"
    # n.º is n.o once NFKC-normalised
    r"\#s?|n\.?\s?(?:[°º]|o\b)\.?))?"
    r"\s*+[:#.-]{0,2}\s*+\#?\s*+"
)
_TOKEN = re.compile(
    rf"(?:(?<![A-Z0-9])(?:(?P<credit>{_CREDIT_LABEL})|(?P<label>{_INVOICE_LABEL})){_NUMBER_WORD})?"
    r"#?\s*+(?P<token>[A-Z0-9][A-Z0-9/_.-]*[0-9][A-Z0-9/_.-]*|[0-9OIlSB]{3,}[0-9][0-9OIlSB]*)",
    re.IGNORECASE,
)
# a number right after one of these words is not an invoice number
_NOT_INVOICE = re.compile(
    r"(?:^|[^A-Z0-9])(?:(?:p\.?\s?o|p\s?/\s?o|purchase\s*orders?|orders?|ord|acct|accounts?|a/c|cust(?:omer)?|"
    r"client|member|checks?|chk|chq|cheques?|trace|trn|batch|dates?|dt|eff|tel|phon\w*|fax|zip|"
    r"vat|tax|ein|routing|aba|bic|swift|id|txn|transaction|conf(?:irmation)?|store|loc(?:ation)?|"
    r"shipments?|bol|delivery(?:\s*notes?)?|contract|ticket|case|job|project|auth|eed|sec|descr?|"
    r"ind|orig|"
    # the shipment's and the payer's own documents: packing slips, goods receipts (GRN), a
    # sales order written S/O, the payer's payment run
    r"packing\s*(?:slips?|lists?)|grn|goods\s*receipts?|goods\s*received(?:\s*notes?)?|"
    r"s\s?/\s?o|(?:payment|pay|pmt)\s*runs?|"
    r"sender|routing|imad|omad|fed\s*ref|seq|"
    # an exchange rate (a wire's own field; RATE alone only as the wire writes it, below)
    r"(?:fx|exch(?:ange)?)\s*rate|"
    # customer numbers (Kd-Nr., Kundennummer, Debitor, cliente), SEPA mandate, creditor and
    # payer's own references (MREF+, CRED+, KREF+, /ROC/, OUR REF), accounts, orders
    r"kd|kdnr|kunden(?:nummer)?|kunde|debitor(?:en)?|clientes?|compte|konto|cuenta|"
    r"mref|mandat\w*|cred|kref|debt|iban|abwa|abwe|roc|acc|our\s*ref(?:erence)?|"
    r"auftrag|bestellung|best|commande|cde|pedido|ordine|lieferschein|"
    # phone, card, TAN, serial and customer numbers; bank text tags for accounts, routing
    # numbers and checks (DACT, CABA, CHKN); Dutch account numbers
    r"telefon|mob(?:ile?)?|gsm|cards?(?:\s+ending(?:\s+in)?)?|karte|carte|tan|serial|cus(?:t)?no|"
    r"[dc]act|[dc]aba|chkn|idnm|lock\s*box|rekeningnummer|rek\.?\s*nr|tegenrekening|"
    # the payer's own numbers: its vendor / supplier number for us (Kreditor, Lieferant),
    # customer numbers in Dutch, Swedish and Finnish, checks (CK#), lockbox (LBX), sales
    # orders, returns, statements; a phone number to call; the payer's debit memo deducted
    r"vendor|supplier|kreditor(?:en)?|lieferant\w*|klant\w*|deb|debiteur\w*|kundnr|kundnummer|"
    r"asiakas\w*|ck|lbx|so|rma|stmt|statement|call|amt|"
    # AMOUNT 1500, TOTAL 1500: on the same line (a table's header is no label)
    r"(?:amount|total)(?=[ \t:=#]*\Z)|"
    # quotes, estimates, work orders, claims, vouchers, requisitions, employees, ledger
    # accounts, quantities, freight PRO numbers, a card's last digits, a fiscal year
    r"quotes?|quotations?|estimates?|pro\s*-?\s*forma|wo|work\s*orders?|claims?|vouchers?|"
    r"req(?:uisition)?|emp(?:loyee)?|gl|qty|quantity|pro|v\s*card|last\s*(?:4|four)|fy|advice|"
    r"(?:pmt|payment|spei|utr)\s*ref(?:erence)?|payment\s*proposal|utr|"
    # the payer's debit memos, chargebacks and deductions (what it takes off, by its own
    # numbers), on the number's line (a table's DEDUCTION column header is no label); a debit
    # memo may be ours (DM-1234, PAYMENT FOR DEBIT MEMO 7701): see _payers_memo
    r"(?P<taken>(?P<less>(?:less|minus|deduct(?:ed|ing)?)\s+)?(?P<memo>dm|debit\s*(?:memo|note)s?)|"
    r"charge\s*-?\s*backs?|deductions?|ded)"
    # (taken off with LESS, the number may start the next line)
    r"(?=(?(less)\s|[ \t])*+(?:(?:nos?|nrs?|numbers?)\b\.?)?(?(less)[\s:=#.-]|[ \t:=#.-])*+\Z)|"
    # a post office box, a suite or a floor in an address
    r"box|postfach|suite|ste|apt|floor|room|bldg|"
    # a number the word names as the payment's or the advice's own (Zahlungsnummer, Avis-Nr.)
    r"(?:payment|pmt|remittance|advice)(?=[\s.-]*(?:nos?|nrs?|numbers?|\#))|"
    r"(?:zahlung|zahlungs|zahlungsavis|avis)(?=[\s.-]*(?:nummer|nr)))"
    r"(?:[\s.-]*+(?:nos?|nrs?|numbers?|nummer|\#|id)\b\.?)?\s*+[:#.+=*-]*+\s*+$|"
    # a wire's own fields in bank text (Fedwire, CHIPS, book transfers), written as the wire
    # writes them (TIME:1022, FED#06710, ORG=/000123456789, BNF: /000123456; PAID ON TIME 4471
    # is the payer's): its time, Fedwire (FED#) and CHIPS sequence numbers (SSN, UID), the
    # sender's reference (SRF), the sending participant, the parties and their banks with
    # their accounts after a slash (B/O, ORG, BNF, OGB, BBK, IBK), an exchange rate; the
    # payer's own fields (OBI, PMT DET, RFB) stay
    r"(?P<wire>time|fed|srf|ssn|uid|snd|b\s?/\s?o|org|bnf|ogb|obk|bbk|ibk|rate)"
    r"\s*+(?:[:#=]++\s*+/?|/)\s*+$)",
    re.IGNORECASE,
)
# a table's column header word before DEDUCTION (AMOUNT PAID DEDUCTION): a header, no label
_COLUMN_BEFORE = re.compile(
    r"(?:^|[^A-Z0-9])(?:amount|amt|paid|discounts?|disc|gross|net|balance|bal|invoices?|inv)"
    r"[ \t]*+$",
    re.IGNORECASE,
)
# the purchase order's own words among those: the number after them is the payer's PO
_PO_LABEL = re.compile(
    r"(?:^|[^A-Z0-9])(?:p\.?\s?o\.?|p\s?/\s?o|purchase\s*orders?)"
    r"(?:[\s.-]*+(?:nos?|nrs?|numbers?|nummer|\#)\b\.?)?\s*+[:#.+=*-]*+\s*+$",
    re.IGNORECASE,
)
# PO4500012345, PO-7790: a PO number written with its label
_PO_GLUED = re.compile(r"^P\.?O\.?[#-]?(?=\d)", re.IGNORECASE)
# a processor's own object id (Stripe in_1Qk..., pi_3Qk...), never one of our invoice numbers
_PROCESSOR_ID = re.compile(r"^(?:in|pi|ch|py|cs)_[0-9A-Za-z]{8,}$")
# INVOICES 20241001, 20241002: numbers shaped like dates, listed after a label
_LABELLED_8_DIGITS = re.compile(
    rf"(?:^|[^A-Z0-9])(?:{_INVOICE_LABEL}){_NUMBER_WORD}\d{{8}}(?:[\s,;&+]+\d{{8}})*[\s,;&+]+$",
    re.IGNORECASE,
)
_LABEL_AT_END = re.compile(
    rf"(?:^|[^A-Z0-9])(?:{_INVOICE_LABEL}|{_CREDIT_LABEL}){_NUMBER_WORD}$", re.IGNORECASE
)
_MONTH = (
    r"(?:jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|f[ée]vr?(?:ier)?|m[aä]r(?:ch|z|s)?|mrz|mrt|maart|"
    r"apr(?:il)?|avr(?:il)?|ma[iy]|mei|jun[ei]?|juin|jul[iy]?|juil(?:let)?|aug(?:ust|ustus)?|"
    r"ao[uû]t|sept?(?:ember|embre)?|o[ck]t(?:ober|obre)?|nov(?:ember|embre)?|"
    r"d[ée][cz](?:ember|embre)?)\.?"
)
# a date, with the time a bank may write after it (2020-01-28T14:32:46, 21.05.11/12.54), or
# a month written out with its year (April 2025, Jul 31, 2023, 5 Feb 2024)
_DATE = re.compile(
    r"(?<![0-9A-Z])(?:(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2})"
    r"(?:[T/]\d{2}[:.]\d{2}(?:[:.]\d{2})?|\s\d{2}:\d{2}(?::\d{2})?)?|"
    r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|"
    rf"(?:\d{{1,2}}\.?\s+)?{_MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(?:19|20)\d{{2}}|"
    # 15-OCT-26 (Oracle), and a month and day alone: 11/02
    rf"\d{{1,2}}-{_MONTH}-(?:\d{{4}}|\d{{2}})|(?<![/.-])(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01]))(?![0-9A-Z/])",
    re.IGNORECASE,
)
# payment terms: 2/10 NET 30, 1%10 N30, 2/10NET30, NET 30 DAYS: a one-digit discount, its days
# and the net days (not INV 45/46 NET 30, 1/10 N 345, NET 980.00, NET 01/15/24, nor NET 123 in
# a table's header and first row)
_TERMS = re.compile(
    r"(?<![0-9A-Z.,/])(?:\d(?:\.\d{1,2})?\s?[/%]\s?\d{1,2}\s*+,?\s*+(?:net ?|n)\d{2,3}|"
    r"net ?\d{2})(?: ?days?)?(?![0-9A-Z]|[/.,-]\d)",
    re.IGNORECASE,
)
_CODES = (
    r"(?:USD|EUR|GBP|CAD|CHF|AUD|NZD|JPY|SEK|NOK|DKK|PLN|MXN|HKD|SGD|INR|CNY|RMB|BRL|ZAR|CZK|"
    r"HUF|RON|AED|SAR|ILS|KRW|TWD|THB|MYR|PHP|IDR|TRY)"
)
# a code and its amount stand on one line: a code ending a line is the amount's before it
# (2,450.00 USD\n10031 1,000.00 USD), see whole_wrapped for a line wrapped after a code
_CURRENCY = rf"(?:[$€£¥₹]|{_CODES}[ \t]?)"
_CURRENCY_AFTER = rf"\s?{_CODES}(?![A-Z])"
# a code ending a line not after an amount's cents and the blanks of a table's cell between
# (1,000.00  USD\n10032: the code the amount's, 10032 the next row's)
_NOT_AFTER_CENTS = "".join(rf"(?<![.,][0-9]{{2}}[ \t]{{{n}}})" for n in range(1, 17))
_WHOLE = r"\d{1,3}(?:[.'\u2019]\d{3})+|\d+"  # a whole amount: 1500, 1.500, 1'500
_AMOUNT = re.compile(
    # 1 234,56 EUR, EUR 1 234,56: thousands grouped by spaces, only with the currency beside
    # them (INV 118 234,56 stays invoice 118 and 234.56)
    rf"(?<![0-9A-Z.,/-]){_CURRENCY}\s?(?P<spaced>\d{{1,3}}(?: \d{{3}})+,\d{{2}})(?![0-9]|[.,]\d)|"
    rf"(?<![0-9A-Z.,/-])(?P<spaced_before>\d{{1,3}}(?: \d{{3}})+,\d{{2}}){_CURRENCY_AFTER}|"
    # 1'234.50 (Swiss, thousands by apostrophes) and Rs.1,23,456.00 (Indian, lakhs and crores
    # by commas, with its cents) are amounts with or without their currency
    rf"(?<![0-9A-Z.,/-])-?(?:{_CURRENCY}|Rs\.\s?|Rs\s)?"
    r"(?P<value>\d{1,3}(?:['\u2019]\d{3})+(?:\.\d{2})?|\d{1,2}(?:,\d{2})+,\d{3}\.\d{2}|"
    r"\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d{1,3}(?:\.\d{3})+,\d{2}|\d+[.,]\d{2})"
    # EUR 1.000, CHF 12'500: whole thousands grouped by dots or apostrophes beside the currency
    rf"(?![0-9]|[.,]\d)|(?<![0-9A-Z]){_CURRENCY}(?P<whole>{_WHOLE})(?![0-9.,])|"
    # a narrative wrapped right after the code (PAID INV 4472 USD\n3000): not after an amount's
    # cents, whose code it is, nor a number an amount in a currency follows (the next row's
    # document: 10031 1,000.00 USD, 4473 $2000; a date, a count or an account may follow)
    rf"(?<![0-9A-Z]){_NOT_AFTER_CENTS}{_CODES}\r?\n(?P<whole_wrapped>\d+)"
    rf"(?![0-9.,])(?![ \t]+(?:-?[$€£¥₹]\d|(?:\d{{1,3}}(?:[,.]\d{{3}})+|\d+)(?:[.,]\d{{2}})?"
    rf"[ \t]*{_CODES}(?![A-Z])))|"
    # 1500 USD, unless an amount follows the code (INV 88123 EUR 1500.00)
    rf"(?<![0-9A-Z.,/-])(?P<whole_before>{_WHOLE}){_CURRENCY_AFTER}(?!\s?[-0-9$€£])",
    re.IGNORECASE,
)
# what may stand between an invoice number and the amount the payer pays on it
_AMOUNT_GAP = re.compile(
    r"^[\s:=,;()-]*(?:(?:amt|amount|paid|pd|pmt|partial|final|balance|usd|eur|gbp|cad|chf|dtd|"
    r"dated)\b[\s:=.,;-]*)*$",
    re.IGNORECASE,
)
_LIST_GAP = re.compile(
    r"^[ \t()]*+(?:(?:[,;/&+]|and|und|et|y|en|e|og|och|ir|i)[\s()]*+)?\#?[ \t]*+$", re.IGNORECASE
)
# INVOICES 1001 THRU 1005 EXCEPT 1003: what follows one of these words is not paid
_EXCLUDING = re.compile(
    r"(?:^|[^A-Z0-9])(?:except(?:ing)?|excluding|excl|exclude|not\s+including|other\s+than|"
    r"but\s+not|ausgenommen|au(?:ss|ß)er|ohne|sauf|hors|excepto|salvo)\.?\s*[:#-]?\s*$",
    re.IGNORECASE,
)
# ~ between two numbers is a range (10231~10234): Japanese, Chinese and Korean write it so
_RANGE_GAP = re.compile(r"^\s*(?:-|~|to|thru|through|bis|a|au)\s*$", re.IGNORECASE)
# the wave dash and its look-alikes, written for ~ (NFKC leaves them; a full-width tilde it
# folds to ~ itself)
_TILDES = str.maketrans(dict.fromkeys("\u301c\u223c\u2053", "~"))
# an X12 RMR segment carried in text (NACHA CCD+/CTX addenda): RMR*IV*1001**100.00\\
_RMR = re.compile(
    r"(?:(?<![0-9A-Z])705\s?)?RMR\*(?P<qualifier>[A-Z0-9]{2})\*(?P<ref>[^*\\~]+)(?:\*(?P<action>[A-Z0-9]{0,2})"
    r"(?:\*(?P<amount>-?\d+(?:\.\d{1,2})?))?)?[^\\~]*[\\~]?",
    re.IGNORECASE,
)
# the other X12 segments an 820 carries beside RMR (a PO or vendor number in REF, dates in
# DTM, adjustments in ADX, parties): none names an invoice, except REF*IV
_X12_OTHER = re.compile(
    r"(?<![0-9A-Z])(?:REF\*(?!IV\*)[A-Z0-9]{2,3}|DTM|ADX|TRN|BPR|ENT|N1|N3|N4|NM1|PER|IT1)\*"
    r"[^~\\\n]*[~\\]?",
    re.IGNORECASE,
)
# SWIFT field 70 / 72 codes between slashes (/INV/, /RFB/, /ROC/ ...), with /INV/'s optional
# date, and the MT940 :86: codes of Dutch banks (/REMI/, /ISDT/, /CSID/ ...); MT940 field
# tags, the :86: transaction code (three digits, no more) and its ?nn subfield markers
_DUTCH_CODES = (
    r"(?:REMI|ISDT|BENM|NAME|ORDP|CNTP|ADDR|RTRN|CSID|MARF|TRTP|ULTC|ULTD|IBAN|BIC|PREF|USTD|"
    r"STRD|CDTRREFTP|CDTRREF)"
)
_SWIFT_CODE = re.compile(
    rf"(?:(?<![A-Za-z])|(?=/{_DUTCH_CODES}/))"
    rf"/(?P<code>INV|IPI|RFB|ROC|TSU|URI|BNF|ACC|INS|REC|TXT|PURP|EREF|{_DUTCH_CODES})/"
    r"(?P<date>(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])/)?"
)
# /INV/ glued to the word before it, which a SWIFT code never is: PAYMENT/INV/12345
_GLUED_INV = re.compile(r"(?<=[A-Za-z])/INV/(?=[0-9A-Za-z])", re.IGNORECASE)
# a slash between a narration's segments (Indian NEFT/IMPS/UPI, UK references): before an
# invoice label, or between a number and a word (not INV/2024/00123 or 4711/A)
_NARRATION_SLASH = re.compile(
    r"(?<=[0-9A-Za-z])/(?=(?:INV|INVOICE|BILL)[\s#:.-]*\d)|(?<=\d)/(?=[A-Za-z][A-Za-z@._-]{2,}(?:/|\s|$))|"
    # INV#1723/PO#4455/CHK#88812: a number, then another label's word with its # or colon
    r"(?<=\d)/(?=[A-Za-z]{1,8}\s*[#:]\s*\d)|"
    # PO 1721-INV 1722: a number, a dash, then an invoice label and its number
    # (not 2026-INV-0005, one number in a year-label-sequence numbering)
    r"(?<=\d)-(?=(?:INV|INVOICE|BILL)[\s#:.]+\d)",
    re.IGNORECASE,
)
# INV1001.INV1002.INV1003, F2024-0012.F2024-0013: numbers written with the same letters and
# joined by dots are a list, not one number (INV 1001.1002 stays as written)
_DOT_LIST = re.compile(
    r"(?<![0-9A-Z])(?P<letters>[A-Z]{1,10})(?P<sep>[ #:-]?)[0-9][0-9-]*"
    r"(?:\.+(?P=letters)(?P=sep)[0-9][0-9-]*)+(?![0-9A-Z])",
    re.IGNORECASE,
)
# a slash between a number and the amount paid on it (two decimals): INV1001/500.00
_AMOUNT_SLASH = re.compile(r"(?<=[0-9])/(?=\d{1,3}(?:,\d{3})*\.\d{2}(?![0-9]|[.,/]\d))")
# a Fedwire tag ({6000}) and its field, which runs to the next tag or the line's end. The
# wire's own fields are not read: its format, type, IMAD and OMAD, amount, the banks, the
# sender's reference, business function, charges, the parties and their accounts, ids and
# addresses (the originator to beneficiary and FI to FI information, the reference for the
# beneficiary, addenda and remittance documents are)
_FEDWIRE_FIELD = re.compile(r"\{(?P<tag>\d{4})\}(?P<value>[^{\n]*)")
_FEDWIRE_OWN = frozenset(
    re.findall(
        r"\d{4}",
        "1100 1110 1120 1500 1510 1520 2000 3000 3100 3320 3400 3500 3600 3610 3620 3700 3710 "
        "3720 4000 4100 4200 4400 5000 5010 5100 5200 5400 8250 8300 8350",
    )
)
# the creditor identifier and the mandate, read as the SEPA tags that name them
_SWIFT_AS = {"CSID": " CRED ", "MARF": " MREF "}
_FIELD_TAG = re.compile(
    r"(?:^|(?<=\n)):\d{2}[A-Z]?:(?:(?<=:86:)\d{3}(?![0-9]))?|\?(?:[0-2]\d|3[0-4]|6[0-3])"
)
# subfields of :86: that are not remittance text: ?00 posting text, ?10 primanota, ?30-?34
_NOT_TEXT_SUBFIELD = re.compile(r"\?(?:00|10|3[0-4])[^?\n]*")
# Belgian structured communication: +++123/4567/89002+++ (mod 97 check digits)
_OGM = re.compile(r"(?:\+{3}|\*{3})\s*(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})\s*(?:\+{3}|\*{3})")
# Swiss QR reference (QRR): 27 digits, grouped 2 + 5 x 5 or not, recursive mod 10 check digit
_QRR = re.compile(r"(?<![0-9A-Z])(?:\d{2}(?: \d{5}){5}|\d{27})(?![0-9A-Z])")
# a national payment reference, labelled, its digits grouped: betalingskenmerk (NL), KID (NO),
# OCR (SE), viite (FI), ESR/BVR (CH): one number, not a list
_GROUPED_REF = re.compile(
    r"(?<![0-9A-Z])(?:betalingskenmerk|kenmerk|kid(?:\s*nr)?|ocr(?:\s*nr)?|viite(?:numero)?|"
    r"viitenro|referensnummer|esr|bvr|qrr)\.?\s*[:#]?\s*"
    r"(?P<digits>\d{2,5}(?: \d{2,5})*(?: \d{1,5}))(?![0-9A-Z])",
    re.IGNORECASE,
)
_QRR_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
# an IBAN, compact or in groups of four; what it spans is checked (mod 97) in _ibans
_IBAN = re.compile(r"(?<![0-9A-Z])[A-Z]{2}\d{2}(?: ?[0-9A-Z]{1,30})(?: [0-9A-Z]{1,4}){0,8}", re.I)
_IBAN_LENGTHS = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2})(\d\d)",
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 "
        "DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 "
        "IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 "
        "MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 "
        "ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20",
    )
}
# a card number with masked digits: 4998 XXXX XXXX 1234, 487178******3456
_CARD = re.compile(
    r"(?<![0-9A-Z*])(?:[0-9X*]{4}(?:[\s-]{1,4}[0-9X*]{4}){2,3}|\d{4,6}[X*]{4,9}\d{4})(?![0-9A-Z*])",
    re.I,
)
# a phone number: +1 214 555 1002, (214) 555-1002, 214-555-1002, 214.555.1002
_PHONE = re.compile(
    r"(?<![0-9A-Z+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![0-9A-Z])"
    r"|(?<![0-9A-Z+])\+\d{1,3}(?:[\s.-]\d{2,4}){2,4}(?![0-9A-Z])",
    re.IGNORECASE,
)
# a US zip code after a city and the state's code: DALLAS TX 75201, Austin, TX 78701-1234
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
)
_ZIP = re.compile(
    r"(?<![0-9A-Za-z])(?P<city>[A-Za-z]{3,}),?[ \t]+(?:" + "|".join(_STATES.split()) + r")[ \t]+"
    r"(?P<zip>\d{5}(?:-\d{4})?)(?![0-9A-Za-z])"
)
# words a payer writes before IN, OR, ME, OK ... that are no city: PAID IN 47111 names no
# zip code in Indiana
_NOT_CITY = re.compile(
    rf"(?:{_INVOICE_LABEL}|{_CREDIT_LABEL}|paid|pays?|paying|payments?|pmts?|pymts?|pd|"
    r"remit(?:ted|tance)?|settled?|settlement|included|incl|listed|shown|applied|apply|"
    r"full|part(?:ial)?|total|balance|amount|amt|funds|transfer|pago|pagad[oa]|zahlung|"
    r"bezahlt|paiement|r[eè]glement|pagamento)",
    re.IGNORECASE,
)
_RF_IN_TEXT = re.compile(r"(?<![0-9A-Z])RF\d{2}(?: ?[0-9A-Z]){1,21}", re.IGNORECASE)
# field lengths that cut remittance text: NACHA 705 addenda 80, camt Ustrd 140, SWIFT 35 x n,
# UK Bacs / Faster Payments references 18
TRUNCATION_LENGTHS = frozenset({18, 35, 70, 80, 105, 140})
_CREDIT_PREFIXES = ("CM", "CN", "CR", "CREDITMEMO", "CREDITNOTE")


def po_key(number: str | None) -> str:
    """A purchase order number's key: ``PO-7790``, ``P.O. 7790`` and ``7790`` give ``7790``."""
    key = re.sub(r"^(?:PO|PURCHASEORDER)(?=\d)", "", document_key(number))
    return (key.lstrip("0") or "0") if key.isdigit() else key


def processor_id(value: str) -> bool:
    """Whether a reference is a payment processor's own object id (Stripe's ``in_1Qk...``):
    an id of the processor's invoice or payment, not a document number of ours."""
    return bool(_PROCESSOR_ID.match(value.strip()))


def credit_prefix(number: str) -> str:
    """The credit-memo prefix a document number is written with (``CM-5001``: ``CM``), or ""."""
    prefix, _ = split_prefix(number)
    return prefix if prefix in _CREDIT_PREFIXES else ""


_MAX_RANGE = 10


@dataclass
class TextRef:
    """One document number read in remittance text.

    ``keys`` are the readings to look up, best first (as written, OCR, without leading zeros
    inside); ``how`` says how the number came about: ``written`` by the payer, ``range``
    (one of ``1001-1003``), ``part`` (one of ``1234/1235``), ``shorthand`` (``1235`` of
    ``1234/35``), ``sequence`` (``123`` of ``123/2024``, a number and its year), ``joined``
    (the number continued after a line break), ``rmr`` (an X12 RMR
    segment in the text), ``rf`` (a creditor reference) or ``structured`` (a national payment
    reference whose check digits hold: Belgian ``+++123/4567/89002+++``, Swiss QRR, a
    labelled betalingskenmerk, KID, OCR or viite). Refs of one ``group`` are
    alternative readings of the same written text; ``written``/``rf`` is the primary one.
    """

    written: str
    keys: list[tuple[str, str]]
    kind: str = "invoice"  # or "credit", or "po" (in ``TextReading.pos``)
    labelled: bool = False
    how: str = "written"
    group: int = 0
    amount: str | None = None
    truncated: bool = False
    start: int = 0
    end: int = 0
    named: bool = False  # an invoice word stands before it (INV, RECHNUNG), or its list's
    # what a remittance table's row says the payer took off this invoice (its discount or
    # deduction column); ``amount`` is then the row's paid column
    discount: str | None = None
    deduction: str | None = None


@dataclass
class TextReading:
    refs: list[TextRef] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)  # what was not taken, and why
    # purchase order numbers (PO 7790, RMR*PO): never invoice numbers, looked up as POs
    pos: list[TextRef] = field(default_factory=list)


def rf_reference(value: str) -> str | None:
    """The creditor's reference inside a valid ISO 11649 RF reference, else None."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = _RF.match(compact)
    if not match:
        return None
    rearranged = match.group(2) + "RF" + match.group(1)
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return match.group(2) if int(digits) % 97 == 1 else None


@dataclass(frozen=True)
class PaymentNetwork:
    """A payment network, bill-pay service or card / wallet processor standing between a payer
    and us: one row of :data:`PAYMENT_NETWORKS`.

    ``network_names``: the names it pays under for many customers, as ``name_key`` writes them
    (whole words, anywhere in the payer's name). Such a payer is the network: its name, ACH
    company id and IBAN identify no customer and are never learned as one's; the payment's
    references still name its invoices. Empty: its name alone says nothing.

    ``descriptor_prefixes``: what it writes before ``*`` in a descriptor naming the merchant
    behind it (``PAYPAL *ACME``, ``SQ *ACME CORP``, ``TST* ACME``; any case, any spacing
    between the words): the merchant is the payer. Empty: it writes no such descriptor.
    """

    name: str
    network_names: tuple[str, ...] = ()
    descriptor_prefixes: tuple[str, ...] = ()

    @property
    def identifies_no_payer(self) -> bool:
        return bool(self.network_names)


# The one table of payment networks and processors, reviewable as data. A network's own name
# (``paid_through``) is reported as its ``name``; a descriptor's processor (``payer_behind``) as
# the prefix it wrote, upper-cased.
PAYMENT_NETWORKS: tuple[PaymentNetwork, ...] = (
    PaymentNetwork("Bill.com", ("BILL COM", "BILLCOM", "DIVVYPAY", "DIVVY PAY")),
    PaymentNetwork("AvidXchange", ("AVIDXCHANGE", "AVID XCHANGE", "AVIDPAY", "AVID PAY")),
    PaymentNetwork("Paymode-X", ("PAYMODE X", "PAYMODEX", "PAYMODE")),
    PaymentNetwork("Corpay", ("CORPAY", "COMDATA")),
    PaymentNetwork("Nvoicepay", ("NVOICEPAY",)),
    PaymentNetwork("Tipalti", ("TIPALTI",)),
    PaymentNetwork("Coupa Pay", ("COUPA PAY", "COUPAPAY")),
    PaymentNetwork("Versapay", ("VERSAPAY",)),
    PaymentNetwork("Billtrust", ("BILLTRUST", "BILL TRUST")),
    PaymentNetwork("Payoneer", ("PAYONEER",)),
    PaymentNetwork("PayPal", ("PAYPAL",), ("PAYPAL", "PP")),
    PaymentNetwork("Venmo", ("VENMO",), ("VENMO",)),
    PaymentNetwork("Zelle", ("ZELLE",), ("ZELLE",)),
    PaymentNetwork("Checkfree (Fiserv)", ("CHECKFREE", "CHECK FREE")),
    PaymentNetwork(
        "bank bill pay",
        ("ONLINE PMT", "ONLINE PAYMENT", "ONLINE BILL PAY", "BILL PAY", "BILLPAY"),
    ),
    PaymentNetwork("Square", descriptor_prefixes=("SQ", "SQUARE")),
    PaymentNetwork("Shopify", descriptor_prefixes=("SP",)),
    PaymentNetwork("Toast", descriptor_prefixes=("TST",)),
    PaymentNetwork("Stripe", descriptor_prefixes=("STRIPE",)),
    PaymentNetwork("Google Pay", descriptor_prefixes=("GOOGLE",)),
    PaymentNetwork("Apple Pay", descriptor_prefixes=("APPLE PAY",)),
    PaymentNetwork("Wise", descriptor_prefixes=("WISE",)),
)

_NETWORK_OF = {name: network.name for network in PAYMENT_NETWORKS for name in network.network_names}
_NETWORK = re.compile(
    r"(?:^| )(" + "|".join(sorted(map(re.escape, _NETWORK_OF), key=len, reverse=True)) + r")(?= |$)"
)
# a name without any of the networks' first words is no network's: most are not, cheaply
_NETWORK_WORD = re.compile(
    "|".join(sorted({re.escape(name.split()[0]) for name in _NETWORK_OF})), re.IGNORECASE
)
_DESCRIPTOR = re.compile(
    r"^\s*(?P<via>"
    + "|".join(
        r"\s*".join(map(re.escape, prefix.split()))
        for network in PAYMENT_NETWORKS
        for prefix in network.descriptor_prefixes
    )
    + r")\s*\*\s*(?P<name>\S.*)$",
    re.IGNORECASE,
)


def payer_behind(name: str | None) -> tuple[str, str] | None:
    """(processor, merchant) when a payer name is a processor's descriptor, else None."""
    match = _DESCRIPTOR.match(name or "")
    if not match or not re.search(r"[A-Za-z]{2}", match.group("name")):
        return None
    return match.group("via").upper(), match.group("name").strip()


def is_network_name(key: str) -> bool:
    """Whether a ``name_key`` is exactly one of the names a network pays under (``PAYPAL``,
    ``BILL COM``): a customer bearing only such a name cannot be told from the network."""
    return key in _NETWORK_OF


def paid_through(
    payer_name: str | None, customer_names: Container[str] = frozenset()
) -> tuple[str, str | None] | None:
    """The network a payment came through, and the customer's name behind it when the payer's
    name carries one (``PAYPAL *ACME``: PayPal, ACME; ``BILL.COM``: Bill.com, None); None
    when the payer's name is its own.

    ``customer_names`` (``name_key`` form): a payer bearing a customer's exact name that is
    more than a network's name (``PAYPAL HOLDINGS`` for PayPal Holdings, Inc. paying its own
    invoice) is that customer, not the network; ``PAYPAL`` alone stays PayPal's."""
    behind = payer_behind(payer_name)
    if behind is not None:
        return behind
    if not payer_name or not _NETWORK_WORD.search(payer_name):
        return None
    key = name_key(payer_name)
    match = _NETWORK.search(key)
    if match is None or (key in customer_names and not is_network_name(key)):
        return None
    return _NETWORK_OF[match.group(1)], None


# What a bank writes for a payer whose name it was not given (camt's NOTPROVIDED, a wire's
# UNKNOWN REMITTER, N/A), as ``name_key`` writes it: like a network's name it identifies no
# customer, but it is no one's at all (the IBAN or account beside it may still be the payer's).
# A name is a placeholder when it holds one of these marks and nothing but marks and the words
# naming the missing party (No Name Brewing, Unknown Worlds Entertainment are names).
_PLACEHOLDER_MARKS = (
    r"UNKNOWN|NOT ?PROVIDED|NOT ?AVAILABLE|UNAVAILABLE|UNDISCLOSED|UNSPECIFIED|NOT SPECIFIED|"
    r"NOT GIVEN|NOT SUPPLIED|NOT STATED|WITHHELD|NONE|NONREF|N A|NA|NO ?NAME|NAMELESS"
)
_PLACEHOLDER_PARTY = (
    r"REMITTER|ORIGINATOR|ORDERING|ORDER|PAYER|PAYOR|SENDER|DEBTOR|CUSTOMER|CLIENT|PARTY|"
    r"NAME|ACCOUNT|HOLDER|OF|INFO|INFORMATION|DETAILS"
)
_PLACEHOLDER_NAME = re.compile(
    rf"(?:(?:{_PLACEHOLDER_PARTY}) )*(?:{_PLACEHOLDER_MARKS})"
    rf"(?: (?:{_PLACEHOLDER_MARKS}|{_PLACEHOLDER_PARTY}))*"
)


def is_placeholder_name(payer_name: str | None) -> bool:
    """Whether a payer name is a bank's stand-in for a name not given (``UNKNOWN REMITTER
    LTD``, ``NOTPROVIDED``, ``N/A``): it identifies no one, and is never learned as a
    customer's."""
    key = name_key(payer_name)
    return bool(key) and _PLACEHOLDER_NAME.fullmatch(key) is not None


def loose_key(number: str | None) -> str:
    """A document key with the leading zeros of every run of digits dropped.

    ``INV-2024-00123`` and ``2024-123`` both give ``2024123``.
    """
    words = [w for w in re.split(r"[^0-9A-Z]+", fold(number or "")) if w]
    if words and split_prefix(words[0]) == (words[0], ""):
        words = words[1:]  # INV-2024-123: the word prefix alone
    prefix, _ = split_prefix("".join(words))
    runs = [
        re.sub(r"^0+(?=[0-9])", "", run)
        for word in words
        for run in re.findall(r"[0-9]+|[A-Z]+", word)
    ]
    compact = "".join(runs)
    return (
        compact[len(prefix) :]
        if prefix and compact[len(prefix) : len(prefix) + 1].isdigit()
        else compact
    )


def _keys(token: str, min_length: int) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    primary = document_key(token)
    candidates = [(primary, "as written")]
    prefix, rest = split_prefix(token)
    compact = re.sub(r"[^0-9A-Za-z]+", "", token)  # case kept: a lower-case l reads as 1
    tail = compact[len(compact) - len(rest) :] if rest else ""
    ocr = document_key(prefix + tail.translate(_OCR).upper())
    if ocr != primary and sum(ch.isdigit() for ch in primary) >= len(primary) // 2:
        candidates.append((ocr, "ocr"))
    loose = loose_key(token)
    if loose and loose != primary and loose.isalnum():
        candidates.append((loose, "loose"))
    for key, reading in candidates:
        if (
            key
            and len(key) >= min_length
            and any(ch.isdigit() for ch in key)
            and key not in {k for k, _ in keys}
        ):
            keys.append((key, reading))
    return keys


_PADDED = re.compile(r"(?<![0-9])0[0-9]{2,}")


def _min_length(kind: str, labelled: bool, direct: bool, token: str) -> int:
    """The shortest key read as a document number. Any number the payer labelled itself
    (``INV-0042``, ``Invoice 42``, ``RMR*IV*42``), or wrote zero-padded in a labelled list
    (``INVOICES 0041, 0042``), is one; an unlabelled number needs three digits (a labelled
    credit memo two), so street numbers and quantities are not read as invoices."""
    if labelled and (direct or _PADDED.search(token)):
        return 1
    return 2 if kind == "credit" and labelled else 3


# the end-anchored label patterns are searched over the text before a number back to where
# this many characters of words stand before it (the blanks and separators a label may be
# written with between its words and the number are free: PURCHASE ORDER NO. .... 4471),
# not over the whole text before every number (a long advice was read in quadratic time);
# never further back than _LOOKBACK_SPAN
_LOOKBACK = 128
_LOOKBACK_SPAN = 4096
_SEPARATORS = frozenset(".:#+=*/-")


def _ends_with(pattern: re.Pattern[str], text: str, end: int) -> re.Match[str] | None:
    """``pattern``, anchored at its end, matched right before ``end`` in ``text``."""
    start, counted, floor = end, 0, max(0, end - _LOOKBACK_SPAN)
    while start > floor and counted < _LOOKBACK:
        start -= 1
        if not (text[start] in _SEPARATORS or text[start].isspace()):
            counted += 1
    return pattern.search(text, start, end)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


_CODE_AFTER = re.compile(_CURRENCY_AFTER, re.IGNORECASE)


def _currency_beside(match: re.Match[str]) -> bool:
    """Whether a currency's sign or code stands right before or after an amount's value."""
    before = match.group(0)[: match.start("value") - match.start()].lstrip("-")
    return bool(before.strip()) or bool(_CODE_AFTER.match(match.string, match.end()))


def _amount(match: re.Match[str]) -> str | None:
    spaced = match.group("spaced") or match.group("spaced_before")
    if spaced:
        return str(Decimal(spaced.replace(" ", "").replace(",", ".")))
    value = match.group("value")
    if value is None:
        whole = match.group("whole") or match.group("whole_before") or match.group("whole_wrapped")
        return re.sub(r"[.'\u2019]", "", whole) if whole else whole  # EUR 1.000: a thousand
    value = re.sub(r"['\u2019]", "", value)  # 1'234.50
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d{2}", value):
        value = value.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}", value) and not _currency_beside(match):
        return None  # 502,503,504: a list of numbers, unless a currency says it is money
    elif ("," in value and "." in value) or re.fullmatch(r"\d{1,3}(?:,\d{3})+", value):
        # 1,234.56, 1,23,456.00; $1,500 is fifteen hundred (a decimal comma has two digits)
        value = value.replace(",", "")
    else:
        value = value.replace(",", ".")
    try:
        return str(Decimal(value))
    except InvalidOperation:
        return None


def ogm_reference(value: str) -> str | None:
    """The 12 digits of a valid Belgian structured communication (``+++123/4567/89002+++``)."""
    match = _OGM.fullmatch((value or "").strip())
    if not match:
        return None
    digits = "".join(match.groups())
    check = int(digits[:10]) % 97 or 97
    return digits if int(digits[10:]) == check else None


def qrr_reference(value: str) -> str | None:
    """The 27 digits of a valid Swiss QR reference (recursive mod 10 check digit)."""
    digits = re.sub(r"\s+", "", value or "")
    if not re.fullmatch(r"\d{27}", digits):
        return None
    carry = 0
    for ch in digits[:-1]:
        carry = _QRR_TABLE[(carry + int(ch)) % 10]
    return digits if (10 - carry) % 10 == int(digits[-1]) else None


def iban(value: str) -> str | None:
    """The compact IBAN when ``value`` is one (its country's length, mod 97), else None."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not (15 <= len(compact) <= 34 and re.fullmatch(r"[A-Z]{2}\d{2}[0-9A-Z]+", compact)):
        return None
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return None  # no such country, or not its length (RF: a creditor reference)
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return compact if int(digits) % 97 == 1 else None


def _ibans(text: str) -> list[tuple[int, int]]:
    """Where valid IBANs stand in the text: the longest run of groups that checks."""
    spans = []
    for m in _IBAN.finditer(text):
        raw = m.group(0)
        cuts = [len(raw), *(i for i in range(len(raw) - 1, 4, -1) if raw[i] == " ")]
        for cut in cuts:
            after = text[m.start() + cut : m.start() + cut + 1]
            if not re.match(r"[0-9A-Za-z]", after) and iban(raw[:cut]):
                spans.append((m.start(), m.start() + cut))
                break
    return spans


def _framing(text: str) -> str:
    """The text with bank-format framing blanked out, same length: SWIFT codes (``/INV/``
    becomes `` INV ``, ``/RFB/`` a gap), MT940 field tags and ``?nn`` subfield markers,
    Fedwire tags and the wire's own fields."""

    def code(m: re.Match[str]) -> str:
        tag = m.group("code")
        word = f" {tag} " if tag in ("INV", "ROC", "ACC") else " " * (len(tag) + 2)
        word = _SWIFT_AS.get(tag, word)
        return word + " " * len(m.group("date") or "")

    def fedwire(m: re.Match[str]) -> str:
        kept = "" if m.group("tag") in _FEDWIRE_OWN else m.group("value")
        return " " * (m.end() - m.start() - len(kept)) + kept

    text = _FEDWIRE_FIELD.sub(fedwire, text)
    text = _SWIFT_CODE.sub(code, text)
    text = _GLUED_INV.sub(" INV ", text)  # PAYMENT/INV/12345
    text = _NARRATION_SLASH.sub(" ", text)  # NEFT/UTR123/ACME/INV4711, INV 4711/acme@okhdfc
    text = _AMOUNT_SLASH.sub(" ", text)  # INV1001/500.00: the invoice, then its amount
    text = _DOT_LIST.sub(lambda m: m.group(0).replace(".", " "), text)
    text = re.sub(r"(?<=[0-9A-Za-z])//+(?=[0-9A-Za-z])", lambda m: " " * len(m.group(0)), text)
    if re.search(r"\?2\d", text) or re.search(r"(?:^|\n):\d{2}[A-Z]?:", text):
        text = _NOT_TEXT_SUBFIELD.sub(lambda m: " " * len(m.group(0)), text)
        text = _FIELD_TAG.sub(lambda m: " " * len(m.group(0)), text)
    return text


# a number a line break cuts after its first one or two digits (88\n125): too short to be
# read alone, so it is read whole; a longer head keeps both readings (``joined``)
_SPLIT_HEAD = re.compile(r"(?<=[\s,;/&#])(\d{1,2})[ \t]*\r?\n[ \t]*(\d{2,})(?![0-9A-Z])")
# the number before a comma a two-digit head follows: a list's previous number, as long as
# the head and the next line make (7002 in INV 7001,7002,70\n03), or the euros of an amount
# written the German way, whose cents the head is (2450,00\n10031, 2.450,00\n10031)
_BEFORE_COMMA = re.compile(r"(?<![0-9.,])(\d+(?:\.\d{3})*),\Z")
_DATE_AFTER = re.compile(r"[./]\d{2}[./]\d{2,4}(?![0-9])")  # the day's: 18.10.2026


def _rejoin(m: re.Match[str]) -> str:
    if len(m.group(1)) == 2:
        before = _BEFORE_COMMA.search(m.string, max(0, m.start() - 32), m.start())
        length = len(m.group(1) + m.group(2))
        # euros grouped by dots are an amount's, as is a head before a date (18.10.2026);
        # otherwise a short tail (88\n125) ends the number, and an amount's cents stand before
        # a number of another length
        if before and (
            "." in before.group(1)
            or (len(m.group(2)) == 2 and _DATE_AFTER.match(m.string, m.end()))
            or (len(m.group(2)) > 3 and len(before.group(1)) != length)
        ):
            return m.group(0)  # an amount's cents, never the head of the next line's number
    joined = m.group(1) + m.group(2)
    return joined + " " * (len(m.group(0)) - len(joined))  # the same length: spans hold


# a row whose amount's currency code ends its line (123 1.000,00 EUR): its number first, then
# an amount written with its cents (not grouped by spaces), then the code
_ROW_AMOUNT_CODE = (
    r"(?:\d{1,3}(?:\.\d{3})+,\d{2}|\d{1,3}(?:,\d{3})+\.\d{2}|\d+[.,]\d{2})"
    rf"[ \t]*{_CODES}[ \t]*\r?"
)
_CODE_ROW = re.compile(
    # (not 123 500,00 EUR, itself an amount grouped by spaces)
    r"[ \t]*(?P<head>\d+)[ \t][^\n]*?(?<![0-9.,])(?!(?<=[0-9][ \t])\d{3},\d{2}(?![0-9]))"
    + _ROW_AMOUNT_CODE,
    re.IGNORECASE,
)
# a line already read as such a row (124 500,00 EUR after 123 1.000,00 EUR): its amount may
# look grouped by spaces
_NEXT_CODE_ROW = re.compile(r"[ \t]*(?P<head>\d+)[ \t]+" + _ROW_AMOUNT_CODE, re.IGNORECASE)


def _row_head(masked: str, m: re.Match[str], rows: set[int]) -> int:
    """The length of the number a spaced amount (``124 500,00 EUR``) starts with when that
    number starts a line after a row of the same shape whose code ends its line (``123
    1.000,00 EUR``, or a line found such a row before, in ``rows``): the code is that row's
    amount's, the number the next row's, as long as the row's (a wrapped amount, ``INV 4711
    EUR\\n1 234,56``, stays one); else 0."""
    group = "spaced" if m.group("spaced") else "spaced_before" if m.group("spaced_before") else ""
    if not group:
        return 0
    at = m.start(group)
    line = masked.rfind("\n", 0, at) + 1
    if not line or masked[line:at].strip(" \t"):
        return 0
    before = masked.rfind("\n", 0, line - 1) + 1
    row = _CODE_ROW.fullmatch(masked, before, line - 1)
    if row is None and before in rows:
        row = _NEXT_CODE_ROW.fullmatch(masked, before, line - 1)
    head = m.group(group).split(" ")[0]
    if row and len(row.group("head")) == len(head):
        rows.add(line)
        return len(head)
    return 0


def _amount_matches(masked: str) -> list[re.Match[str]]:
    """The amounts written in the text, left to right; a row's number is not read as the
    thousands of the amount after it (see :func:`_row_head`)."""
    found = []
    rows: set[int] = set()  # where the lines read as such rows start
    at = 0
    while (m := _AMOUNT.search(masked, at)) is not None:
        head = _row_head(masked, m, rows)
        if head:
            at = m.start("spaced" if m.group("spaced") else "spaced_before") + head
            continue
        found.append(m)
        at = m.end()
    return found


def read_references(text: str | None) -> TextReading:
    """Invoice (and credit memo) numbers in free text, each with how it was read."""
    reading = TextReading()
    if not text:
        return reading
    # full-width letters and digits are ASCII; the length stays (spans hold)
    text = unicodedata.normalize("NFKC", text).translate(_TILDES)
    masked = _SPLIT_HEAD.sub(_rejoin, _framing(text))
    group = 0
    rmrs = []
    for m in _RMR.finditer(masked):
        qualifier = m.group("qualifier").upper()
        kind = "credit" if qualifier in ("CM", "CR") else "invoice"
        keys = _keys(m.group("ref"), 1)
        if qualifier == "PO":
            written = m.group("ref").strip()
            reading.pos.append(
                TextRef(written, [(po_key(written), "as written")], "po", True, how="rmr")
            )
            rmrs.append(m.span())
            continue
        if not keys:
            continue
        group += 1
        amount = m.group("amount")
        reading.refs.append(
            TextRef(
                m.group("ref").strip(),
                keys,
                kind,
                labelled=True,
                how="rmr",
                group=group,
                amount=str(abs(Decimal(amount))) if amount and kind == "invoice" else None,
                start=m.start(),
                end=m.end(),
            )
        )
        rmrs.append(m.span())
    masked = _mask(masked, rmrs)
    segments = [m.span() for m in _X12_OTHER.finditer(masked)]
    for begin, finish in segments:
        reading.ignored.append({"written": masked[begin:finish], "why": "an X12 segment"})
    masked = _mask(masked, segments)
    labelled_before = lambda at: bool(_ends_with(_LABEL_AT_END, masked, at))  # noqa: E731
    noise = [(start, end, "an IBAN") for start, end in _ibans(masked)] + [
        (m.start(), m.end(), "a card number")
        for m in _CARD.finditer(masked)
        if re.search(r"[X*]{2}", m.group(0), re.I)
    ]
    noise += [
        (m.start("zip"), m.end("zip"), "a zip code")
        for m in _ZIP.finditer(masked)
        if not labelled_before(m.start("zip")) and not _NOT_CITY.fullmatch(m.group("city"))
    ]
    noise += [
        (m.start(), m.end(), "a phone number")
        for m in _PHONE.finditer(masked)
        if not labelled_before(m.start())
        and not any(s < m.end() and m.start() < e for s, e, _ in noise)
    ]
    # a list does not run across an IBAN, a card number or a bank code blanked out
    breaks = [start for start, _, _ in noise] + [
        m.start()
        for m in _SWIFT_CODE.finditer(text)
        if m.group("code") not in ("INV", "ROC", "ACC")
    ]
    for start, end, why in noise:
        reading.ignored.append({"written": text[start:end], "why": why})
    masked = _mask(masked, [(start, end) for start, end, _ in noise])
    terms = list(_TERMS.finditer(masked))
    for m in terms:
        reading.ignored.append({"written": m.group(0), "why": "payment terms"})
    masked = _mask(masked, [m.span() for m in terms])
    dates = [
        m
        for m in _DATE.finditer(masked)
        if not labelled_before(m.start())
        and not (m.group(0).isdigit() and _LABELLED_8_DIGITS.search(masked[: m.start()]))
    ]
    for m in dates:
        reading.ignored.append({"written": m.group(0), "why": "a date"})
    masked = _mask(masked, [m.span() for m in dates])
    amounts = [
        (m.start(), m.end(), "-" + value if m.group(0).startswith("-") else value)
        for m in _amount_matches(masked)
        if not labelled_before(m.start()) and (value := _amount(m)) is not None
    ]
    masked = _mask(masked, [(s, e) for s, e, _ in amounts])
    values = [m.start() for m in dates] + [s for s, _, _ in amounts]  # blanked out: a value
    structured: list[tuple[int, int]] = []
    for m in [*_OGM.finditer(masked), *_QRR.finditer(masked), *_GROUPED_REF.finditer(masked)]:
        if any(s <= m.start() < e for s, e in structured):
            continue
        raw = m.group(0).strip()
        if m.re is _OGM:
            digits, kind = ogm_reference(raw), "Belgian structured communication"
        elif m.re is _QRR:
            digits, kind = qrr_reference(raw), "Swiss QR reference"
            if digits is None and " " not in raw:
                continue  # 27 digits, but not a QR reference: read as any number
        else:
            digits, kind = re.sub(r"\s+", "", m.group("digits")), "payment reference"
        structured.append(m.span())
        if digits is None:
            reading.ignored.append({"written": raw, "why": f"{kind}, bad check digits"})
            continue
        group += 1
        reading.refs.append(
            TextRef(
                raw,
                [(document_key(digits), "as written")],
                labelled=True,
                how="structured",
                group=group,
                start=m.start(),
                end=m.end(),
            )
        )
    masked = _mask(masked, structured)
    rfs = []
    for m in _RF_IN_TEXT.finditer(masked):
        raw = m.group(0)
        # the longest prefix (whole groups) that is a valid RF reference
        for cut in range(len(raw), 4, -1):
            if cut < len(raw) and raw[cut] != " ":
                continue
            inner = rf_reference(raw[:cut])
            if inner:
                group += 1
                reading.refs.append(
                    TextRef(
                        raw[:cut].strip(),
                        [(document_key(inner), "as written")],
                        labelled=True,
                        how="rf",
                        group=group,
                        start=m.start(),
                        end=m.start() + cut,
                    )
                )
                rfs.append((m.start(), m.start() + cut))
                break
        else:
            if rf_reference(raw.split(" ")[0]) is None and re.fullmatch(
                r"RF\d{2}[0-9A-Z ]{4,}", raw
            ):
                reading.ignored.append({"written": raw, "why": "RF reference, bad check digits"})
                rfs.append(m.span())
    masked = _mask(masked, rfs)
    previous: TextRef | None = None
    previous_end = -1
    excluding = False  # the previous number was one the payer excluded
    other_numbers = False  # the previous number was labelled as something else (PO 7781, 7782)
    po_numbers = False  # ... as a purchase order
    excluded: set[str] = set()
    consumed = -1  # the end of a range written out (1001 THRU 1005): its last number
    head = ""  # the last number written whole, whose tail a shorthand list rewrites (1001,02)
    # an invoice named for payment: a debit memo beside it is the payer's, not one it pays
    paying = any(m.group("label") for m in _TOKEN.finditer(masked))
    for match in _TOKEN.finditer(masked):
        token = match.group("token").strip("/._-")
        start, end = match.start("token"), match.start("token") + len(token)
        if start < consumed:
            continue
        written = masked[match.start() : end].strip()
        label = match.group("label") or match.group("credit")
        prefix = _label_prefix(token)
        kind = "credit" if match.group("credit") or prefix in _CREDIT_PREFIXES else "invoice"
        direct = bool(label) or bool(prefix)  # labelled where it is written
        labelled = direct
        named = bool(match.group("label"))
        gap = masked[previous_end:start] if previous_end >= 0 else None
        listed = (
            gap is not None
            and bool(_LIST_GAP.match(gap))
            and not any(previous_end <= at < start for at in breaks)
        )
        if (
            not labelled
            and previous is not None
            and listed
            and _letters_before_digits(token) in ("", _letters_before_digits(previous.written))
        ):
            # INVOICES 1001, 1002 & 1003; ABC-1001, ABC-1002; not INV 4711 PO4500012345
            labelled, kind, named = previous.labelled, previous.kind, previous.named
        if kind == "invoice" and (
            _ends_with(_EXCLUDING, masked, match.start()) or (excluding and listed and not label)
        ):
            reading.ignored.append({"written": written, "why": "excluded by the payer"})
            excluded.update(key for key, _ in _keys(token, 1))  # leaving out is never a guess
            previous, previous_end, excluding = None, end, True
            continue
        excluding = False
        anti = None if labelled else _ends_with(_NOT_INVOICE, masked, start)
        if anti and any(anti.start() < at < start for at in values):
            anti = None  # DATE 2024-01-15 4471: the date was the label's value, not 4471
        if anti and anti.group("taken") and not _payers_memo(anti, token, masked, paying):
            anti = None
        if anti or (other_numbers and listed and not labelled):
            at = anti.start() if anti else match.start()
            written = masked[at:end].strip()
            reading.ignored.append({"written": written, "why": "not an invoice number"})
            po_numbers = bool(_ends_with(_PO_LABEL, masked, start)) if anti else po_numbers
            if po_numbers:
                reading.pos.append(
                    TextRef(written, [(po_key(token), "as written")], "po", True, start=start)
                )
            # a wire's field holds one value (UID:123456 4471 4472: the payer's numbers after)
            other_numbers = not (anti and anti.group("wire"))
            previous, previous_end = None, end
            continue
        other_numbers = po_numbers = False
        whole = (
            _shorthand(head, token)
            if listed
            and labelled
            and not label
            and gap
            and re.search(r"[^\s#()]", gap)
            and not _COUNTED.match(masked[end:])
            else None
        )
        if whole is not None:
            # INV 1001,02,03 and INVOICES 10045, 46, 47: the tail of the number before
            group += 1
            ref = TextRef(
                token,
                _keys(whole, 1),
                kind,
                labelled,
                "shorthand",
                group,
                start=start,
                end=end,
                named=named,
            )
            reading.refs.append(ref)
            head, previous, previous_end = whole, ref, end
            continue
        if _PO_GLUED.match(token):
            reading.pos.append(
                TextRef(token, [(po_key(token), "as written")], "po", True, start=start)
            )
        shortest = _min_length(kind, labelled, direct, token)
        keys = _keys(token, shortest)
        if not keys:
            continue
        group += 1
        ref = TextRef(written, keys, kind, labelled, group=group, start=start, end=end, named=named)
        reading.refs.append(ref)
        alternatives, consumed = _alternatives(ref, token, masked, shortest)
        if consumed > end:
            # INV 10231 - 3: the range as written, and where it ends (the field's length may
            # have cut it there)
            ref.written = masked[match.start() : consumed].strip()
            for alternative in alternatives:
                alternative.end = consumed
        reading.refs.extend(alternatives)
        previous, previous_end = ref, max(end, consumed)
        head = token if consumed < 0 and "/" not in token else ""
    if excluded:
        reading.refs = [r for r in reading.refs if r.keys[0][0] not in excluded]
    lone = _table_columns(reading, text)
    _stated_amounts(reading.refs, amounts, masked)
    for ref, stated in lone:
        ref.amount = str(stated)
    _table_amounts(reading.refs, text)
    # INV 1801 1,000.00, 1043 -50.00: a document the payer takes off (a negative line) is a
    # credit it nets, never an invoice it pays; like any credit memo read, at its balance
    netted = {ref.group for ref in reading.refs if ref.amount and ref.amount.startswith("-")}
    for ref in reading.refs:
        if ref.group in netted:
            ref.kind, ref.amount = "credit", None
    if len(text) in TRUNCATION_LENGTHS and reading.refs:
        last = max(reading.refs, key=lambda r: r.end)
        if last.end >= len(text.rstrip()):
            for ref in reading.refs:
                if ref.group == last.group:
                    ref.truncated = True
    return reading


# a quantity's unit or a percentage after a number: INV 1001, 25 UNITS is no invoice 1025,
# INV 4471 2% DISC no invoice 44712
_COUNTED = re.compile(
    r"\s*(?:%|(?:pct|percent|prozent|units?|pcs|pieces?|ea|each|qty|items?|days?|boxes|cases|"
    r"cartons|pallets|kgs?|lbs?|hrs?|hours?|st(?:ck|ück|uck)?|pz|pzas?)\b)",
    re.IGNORECASE,
)


def _shorthand(head: str, tail: str) -> str | None:
    """The number a short tail in a list stands for (``02`` after ``1001``: ``1002``; ``46``
    after ``2026-0045``: ``2026-0046``), when it is shorter than the number's last digits and
    comes after it; else None."""
    last = re.search(r"[0-9]+$", head)
    if not (last and tail.isdigit() and 2 <= len(tail) < len(last.group(0))):
        return None
    digits = last.group(0)
    if int(digits[len(digits) - len(tail) :]) >= int(tail):
        return None  # 1009, 05: not after it
    return head[: len(head) - len(tail)] + tail


def _letters_before_digits(written: str) -> str:
    """The letters a number is written with before its first digit (``PO`` of ``PO45``)."""
    last = written.split()[-1] if written.split() else ""
    return re.sub(r"[^A-Z]", "", fold(re.split(r"\d", last, maxsplit=1)[0]))


def _payers_memo(anti: re.Match[str], token: str, masked: str, paying: bool) -> bool:
    """Whether the debit memo, chargeback or deduction label ``anti`` names the payer's own
    document: not after a column header (AMOUNT PAID DEDUCTION), and a debit memo only when
    taken off (LESS DM 7701) or beside an invoice paid; never DM-1234, our own memo's number."""
    if anti.group("less"):  # LESS DM 7701: taken off, whatever word comes before
        return True
    if _ends_with(_COLUMN_BEFORE, masked, anti.start("taken")):
        return False
    if not anti.group("memo"):
        return True
    return paying and not token[:1].isalpha()


def _label_prefix(token: str) -> str:
    """The document word a token starts with when digits follow it (``INV1234``, ``CM-55``),
    else "": ``NO.5521`` is a number of any kind, ``CNLFHV4126`` a code."""
    prefix, rest = split_prefix(token)
    if not rest[:1].isdigit() or re.fullmatch(r"(?:NO|NR)+", prefix):
        return ""
    return prefix


def _alternatives(
    ref: TextRef, token: str, masked: str, shortest: int = 3
) -> tuple[list[TextRef], int]:
    """Other readings of one written token: a list or range in it, or its continuation; and
    where the text they take ends (past the token when a range is written out: ``1001 TO
    1003``), else -1. ``shortest`` is the shortest key read, as for the token itself."""
    found: list[TextRef] = []
    _, rest = split_prefix(token)

    def alt(number: str, how: str) -> None:
        keys = _keys(number, shortest)
        if keys:
            found.append(
                TextRef(
                    number,
                    keys,
                    ref.kind,
                    ref.labelled,
                    how=how,
                    group=ref.group,
                    start=ref.start,
                    end=ref.end,
                    named=ref.named,
                )
            )

    pieces = [p for p in re.split(r"/", token) if p]
    if len(pieces) > 1:
        head = document_key(pieces[0])
        if (
            len(pieces) == 2
            and re.fullmatch(r"(?:19|20)\d{2}", pieces[0])
            and (len(document_key(pieces[1])) != len(head) or pieces[1].startswith("0"))
        ):
            # 2024/118, 2024/0001, 2024/10023: a year and a sequence, one number; where a
            # system keeps the sequence alone, that is its reading too (2024/2025 stays a list)
            alt(pieces[1], "sequence")
            return found, -1
        if (
            len(pieces) == 2
            and re.fullmatch(r"(?:19|20)\d{2}", pieces[1])
            and len(document_key(pieces[0])) != 4
        ):
            # 123/2024, 10023/2024: fattura 123 of 2024, not 12024 (4471/2024 stays a list)
            alt(pieces[0], "sequence")
            return found, -1
        for n, piece in enumerate(pieces):
            digits = document_key(piece)
            if not digits.isdigit():
                return [], -1
            tail = re.sub(r"[^0-9]", "", piece)
            if n and len(tail) < len(head):  # 1234/35/36: the tails of 1235 and 1236
                whole = head[: len(head) - len(tail)] + tail
                if int(whole) <= int(head) or re.fullmatch(r"(?:19|20)\d{2}", tail):
                    return [], -1  # 10023/10024/2024: numbers and a year, not 12024
                alt(whole, "shorthand")
            else:
                alt(piece, "part")
        return found, -1
    span = re.fullmatch(r"(?:[A-Z]+[ #.:-]*)?([0-9]+)-([0-9]+)", token, re.IGNORECASE)
    following = masked[ref.end :]
    taken = -1
    stem = ""  # 2026-0042 - 2026-0044: what the number repeats before the digits that run
    if span is None:
        more = re.match(
            r"(\s*(?:-|~|to|thru|through|bis)\s*)(?:inv(?:oice)?s?[\s#:.-]*)?#?([0-9]+)(?![0-9A-Z])",
            following,
            re.I,
        )
        if more and _RANGE_GAP.match(more.group(1)) and rest.isdigit():
            span = re.fullmatch(r"([0-9]+)-([0-9]+)", f"{rest}-{more.group(2)}")
            taken = ref.end + more.end()
    last = re.search(r"[0-9]+$", token)
    if last and last.start() > 0:
        more = re.match(
            r"(\s*(?:-|~|to|thru|through|bis)\s*)(?:inv(?:oice)?s?\s*)?#?"
            + re.escape(token[: last.start()])
            + r"([0-9]+)(?![0-9A-Z])",
            following,
            re.I,
        )
        if more and _RANGE_GAP.match(more.group(1)):
            stem = token[: last.start()]
            span = re.fullmatch(r"([0-9]+)-([0-9]+)", f"{last.group(0)}-{more.group(2)}")
            taken = ref.end + more.end()
    if span:
        low, high = span.group(1), span.group(2)
        if len(high) < len(low):  # 88121-25: the end written short
            high = low[: len(low) - len(high)] + high
        if len(low) == len(high) and 0 < int(high) - int(low) < _MAX_RANGE:
            for number in range(int(low), int(high) + 1):
                alt(stem + str(number).zfill(len(low)), "range")
            return found, taken
    if rest.isdigit():
        cont = re.match(r"\s+([0-9]{1,6})(?![0-9A-Z.,%])", following)
        if cont and len(cont.group(1)) < len(rest) and not _COUNTED.match(following[cont.end() :]):
            alt(token + cont.group(1), "joined")
    return found, -1


_STATED = ("written", "rf", "structured")  # the readings a payer states an amount on
# what may stand between the amount a payer pays and the invoice number after it, once the
# invoice's label is taken off: $300.00 INV 1002, 300,00 EUR RE 1002, 300.00 FOR INV 1002
_AMOUNT_BEFORE_GAP = re.compile(
    rf"^[\s:=,;()/-]*(?:{_CODES}(?![A-Z])[\s:=,;()/-]*)?"
    r"(?:(?:for|on|against|re|to|auf|f(?:ü|ue?)r|pour|para|per)\b[\s:.-]*)?$",
    re.IGNORECASE,
)


def _amount_after(
    ref: TextRef, refs: list[TextRef], amounts: list[tuple[int, int, str]], masked: str
) -> tuple[int, int, str] | None:
    """The amount written right after an invoice number (``INV1234 500.00``), if any; a
    negative one (``1043 -50.00``) keeps its sign."""
    following = [r.start for r in refs if r.start > ref.end]
    limit = min(following, default=len(masked))
    for amount in amounts:
        start = amount[0]
        if ref.end <= start < limit and _AMOUNT_GAP.match(masked[ref.end : start]):
            return amount
    return None


def _amount_before(
    ref: TextRef, amounts: list[tuple[int, int, str]], masked: str
) -> tuple[int, int, str] | None:
    """The amount written right before an invoice number and its label (``$300.00 INV
    1002``), if any."""
    for amount in reversed(amounts):
        if amount[1] > ref.start:
            continue
        gap = masked[amount[1] : ref.start]
        label = _LABEL_AT_END.search(gap)
        if label:
            gap = gap[: label.start()]
        return amount if _AMOUNT_BEFORE_GAP.match(gap) else None
    return None


def _stated_amounts(refs: list[TextRef], amounts: list[tuple[int, int, str]], masked: str) -> None:
    """Set the amount the payer states on each invoice number: the one written after it
    (``INV 1001 $1,250.00, INV 1002 $300.00``), or, where every number has its amount written
    before it and none after the last (``$1,250.00 INV 1001, $300.00 INV 1002``), that one;
    read the first way, each number there would take the next one's amount."""
    stated = sorted(
        (r for r in refs if r.kind == "invoice" and r.how in _STATED), key=lambda r: r.start
    )
    after = [_amount_after(ref, refs, amounts, masked) for ref in stated]
    for ref, amount in zip(stated, after, strict=True):
        ref.amount = amount[2] if amount else None
    if len(stated) < 2:
        return
    before = [_amount_before(ref, amounts, masked) for ref in stated]
    if any(amount is None for amount in before) or after[-1] is not None:
        return
    if all(amount is None or amount == before[n + 1] for n, amount in enumerate(after[:-1])):
        for ref, amount in zip(stated, before, strict=True):
            ref.amount = amount[2] if amount else None


# a remittance table's column headers (Oracle, SAP, NetSuite, Bill.com advices), by what the
# column holds; "amount" alone could be any of the amounts, "net" the amount before tax
_NUMBER_WORDS = r"(?:\s*(?:numbers?|nos?|nrs?|num|\#|id))?"
_DOCUMENT = r"(?:invoice|inv|bill|vendor\s+invoice|supplier\s+invoice|your\s+invoice|document|doc)"
_AMOUNT_WORD = r"(?:amount|amt)"
# the same in German (SAP's Zahlungsavis, Oracle's Austrian advices): Rechnungsnr., Beleg-Nr.,
# Bruttobetrag, Skonto, Nettobetrag (gross less Skonto), Zahlbetrag, MwSt
_NR = r"(?:\s*-?\s*(?:nummer|nr|no|\#))"
_BETRAG = r"(?:\s*-?\s*betrag)"
_COLUMNS = (
    (
        "invoice",
        rf"(?:invoice|inv|bill|(?:vendor|supplier|your)\s+invoice){_NUMBER_WORDS}|"
        rf"(?:ihre?\s+)?(?:rechnung|rechnungs?{_NR}|re{_NR}|faktura{_NR}?)|"
        rf"ihre?\s+(?:beleg{_NR}?|nummer|nr)",
    ),
    # a payer's SAP advice numbers its own documents beside our invoice's (Reference)
    ("document", rf"(?:document|doc){_NUMBER_WORDS}|(?:unsere?\s+)?beleg{_NR}?"),
    (
        "date",
        r"(?:(?:invoice|inv|document|doc|due|posting|payment|pmt)\s+)?date|"
        r"(?:beleg|rechnungs|re|buchungs|zahlungs|f(?:ä|ae?)lligkeits)?\s*-?\s*datum|"
        r"f(?:ä|ae?)llig(?:keit)?",
    ),
    (
        "gross",
        rf"gross(?:\s+{_AMOUNT_WORD})?|(?:{_DOCUMENT}|original|orig)\s+(?:{_AMOUNT_WORD}|total)|"
        rf"original|brutto{_BETRAG}?|betrag\s+brutto|"
        rf"(?:rechnungs|re|beleg|original|ursprungs){_BETRAG}",
    ),
    (
        "discount",
        rf"(?:(?:cash|early\s+pay(?:ment)?|terms)\s+)?(?:discount|disc)"
        rf"(?:\s+(?:taken|{_AMOUNT_WORD}))?|skonto(?:{_BETRAG}|\s*-?\s*abzug)?",
    ),
    (
        "deduction",
        rf"(?:deductions?|ded)(?:\s+{_AMOUNT_WORD})?|abz(?:ugs?|(?:ü|ue?)ge){_BETRAG}?|"
        r"k(?:ü|ue?)rzung(?:en)?",
    ),
    (
        "paid",
        rf"{_AMOUNT_WORD}\s+(?:paid|remitted)|(?:paid|remitted)(?:\s+{_AMOUNT_WORD})?|"
        rf"net\s+(?:paid|payment)|(?:payment|pmt)(?:\s+{_AMOUNT_WORD})?|"
        rf"(?:zahl(?:ungs)?|(?:ü|ue?)berweisungs|anweisungs|auszahlungs){_BETRAG}|"
        r"(?:ge|be)zahlt(?:er\s+betrag)?|(?:ü|ue?)berwiesen(?:er\s+betrag)?",
    ),
    ("net", rf"net(?:\s+{_AMOUNT_WORD})?|netto{_BETRAG}?|betrag\s+netto"),
    (
        "tax",
        rf"(?:(?:sales|withholding)\s+)?tax(?:\s+{_AMOUNT_WORD})?|vat(?:\s+{_AMOUNT_WORD})?|"
        r"gst|hst|pst|iva|mwst|ust|wht|tds|withholding|"
        rf"(?:mwst|ust|mehrwertsteuer|umsatzsteuer|steuer){_BETRAG}?",
    ),
    ("amount", rf"{_AMOUNT_WORD}|value|total|betrag|wert|gesamt{_BETRAG}?"),
    (
        "other",  # an amount column read for nothing here
        rf"balance(?:\s+due)?|{_AMOUNT_WORD}\s+due|open\s+(?:{_AMOUNT_WORD}|balance)|"
        rf"outstanding|adjustments?|adj|saldo|(?:offener|f(?:ä|ae?)lliger)\s+betrag|"
        rf"(?:offen|rest){_BETRAG}?",
    ),
    (
        "text",
        rf"desc(?:ription)?|p\s?o{_NUMBER_WORDS}|purchase\s+order{_NUMBER_WORDS}|"
        r"curr(?:ency)?|ccy|vendor|supplier|memo|remarks?|"
        rf"comments?|(?:doc(?:ument)?\s+)?type|voucher{_NUMBER_WORDS}|check{_NUMBER_WORDS}|"
        rf"w(?:ä|ae?)hrung|whrg|w(?:ä|ae?)hr|(?:buchungs)?text|beschreibung|bezeichnung|"
        rf"bestell(?:ung|{_NR}|ungs{_NR})|belegart|verwendungszweck|bemerkung",
    ),
    ("reference", r"(?:(?:your|our)\s+)?ref(?:erence)?|(?:(?:ihre|unsere)\s+)?referenz"),
)
_COLUMN = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _COLUMNS]
_MONEY_COLUMNS = frozenset(
    {"gross", "discount", "deduction", "paid", "net", "tax", "amount", "other"}
)
_RULE_LINE = re.compile(r"^[\s|+:=_-]*[=_-]{3,}[\s|+:=_-]*$")
_TOTAL_LINE = re.compile(
    r"^[\s|]*(?:(?:grand|payment|check|invoice|remittance)\s+)?(?:totals?|sum|summe)\b", re.I
)
_DOCUMENT_CELL = re.compile(r"\#?[A-Z0-9][A-Z0-9/_.-]*", re.IGNORECASE)
# an invoice cell written with its word and one space before the number: INV 10031, CN 501
_LABELLED_CELL = re.compile(r"[A-Z]{1,10}\.?[#:]?[ ]\#?[0-9][A-Z0-9/_.-]*", re.IGNORECASE)


def _column_kinds(cell: str) -> list[tuple[str, str]] | None:
    """The columns one header cell names, each with the words naming it (``Gross Amount``:
    gross; ``Invoice Number Invoice Date``, a header written with single spaces: invoice,
    date), longest names first; None when a word is no column's."""
    words = re.sub(r"([#:])", r" \1 ", cell).replace(".", " ").replace(":", " ").split()
    kinds: list[tuple[str, str]] = []
    at = 0
    while at < len(words):
        for stop in range(min(len(words), at + 4), at, -1):  # no column's name is longer
            phrase = " ".join(words[at:stop])
            kind = next((k for k, pattern in _COLUMN if pattern.fullmatch(phrase)), None)
            if kind:
                kinds.append((kind, phrase))
                at = stop
                break
        else:
            return None
    return kinds


def _cells(line: str, start: int, separator: str) -> list[tuple[int, int]]:
    """Where the cells of a table line stand in the text, split at ``separator``."""
    found = []
    for m in re.finditer(rf"(?:(?!{separator}).)+", line):
        cell = m.group(0)
        if cell.strip():
            lead = len(cell) - len(cell.lstrip())
            found.append((start + m.start() + lead, start + m.start() + len(cell.rstrip())))
    return found


def _cell_amount(cell: str) -> Decimal | None:
    """The amount in one table cell (``2,475.00``, ``$1,000.00``, ``50.00-``, ``(50.00)``)."""
    negative = bool(re.fullmatch(r"\(.*\)|.*-|-.*", cell))
    m = _AMOUNT.fullmatch(cell.strip("()").rstrip("-").lstrip("-"))
    value = _amount(m) if m else None
    if value is None:
        return None
    return -Decimal(value) if negative else Decimal(value)


def _table_amounts(refs: list[TextRef], text: str) -> None:
    """Read a remittance table whose header names an invoice column and a paid column
    (``Invoice Number  Invoice Date  Gross Amount  Discount  Paid Amount``): the amount paid
    on each invoice number read in its rows is the paid column's, not the first amount after
    the number (the gross), and the discount or deduction taken is its column's. A header
    that names no clear paid column (``Amount`` alone, ``Net`` beside a tax column), or a row
    whose gross less what was taken is not what was paid, leaves the reading as it was."""
    lines = _lines(text)
    at = 0
    while at < len(lines):
        table = _table(lines, at, refs)
        at = table[0] if table else at + 1
        for ref, paid, discount, deduction in table[1] if table else []:
            ref.amount = str(paid)
            ref.discount = str(discount) if discount else None
            ref.deduction = str(deduction) if deduction else None


def _lines(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in re.finditer(r"^.*$", text, re.MULTILINE)]


def _header(start: int, header: str) -> tuple[str, list[str], list[str]] | None:
    """A table's header line: the separator of its cells, the columns it names and the words
    naming each; None when the line is no header (a number in it, a word no column's)."""
    if re.search(r"\d", header) or not header.strip():
        return None
    separator = r"\|" if "|" in header else r"\t" if "\t" in header else r"(?: {2,}|\t)"
    named: list[tuple[str, str]] = []
    for s, e in _cells(header, start, separator):
        cell = _column_kinds(header[s - start : e - start])
        if cell is None:
            return None
        named += cell
    kinds = [kind for kind, _ in named]
    if "invoice" not in kinds and "reference" not in kinds:
        kinds = ["invoice" if k == "document" else k for k in kinds]  # DOCUMENT  AMOUNT ...
    return separator, kinds, [phrase for _, phrase in named]


_Row = tuple[list[tuple[int, int]], list[str], dict[int, Decimal]]


def _rows(
    lines: list[tuple[int, str]], at: int, separator: str, kinds: list[str]
) -> tuple[int, list[_Row]]:
    """The rows under a header (line ``at`` is the first after it), each as its cells, their
    values and the amounts in its money columns, and the line after them: a row ends the
    table when its cells are not the header's, or a money cell holds no amount, or its
    invoice cell (one named) no document number."""
    rows: list[_Row] = []
    column = kinds.index("invoice") if kinds.count("invoice") == 1 else None
    while at < len(lines) and _RULE_LINE.match(lines[at][1]):
        at += 1
    while at < len(lines):
        start, line = lines[at]
        if not line.strip() or _TOTAL_LINE.match(line):
            break
        cells = _cells(line, start, separator)
        if len(cells) != len(kinds):
            cells = _cells(line, start, r"\s")
        values = [line[s - start : e - start].strip("| ") for s, e in cells]
        if len(cells) != len(kinds) or not all(values):
            break
        read = {n: _cell_amount(v) for n, v in enumerate(values) if kinds[n] in _MONEY_COLUMNS}
        amounts = {n: value for n, value in read.items() if value is not None}
        if len(amounts) < len(read) or (column is not None and not _document_cell(values[column])):
            break
        rows.append((cells, values, amounts))
        at += 1
    return at, rows


def _document_cell(value: str) -> bool:
    """Whether a table's invoice cell holds one document number: as written (``10031``,
    ``INV-10031``), or after its word and one space (``INV 10031``, ``CN 501``)."""
    return bool(
        (_DOCUMENT_CELL.fullmatch(value) or _LABELLED_CELL.fullmatch(value))
        and re.search(r"\d", value)
    )


def _table(
    lines: list[tuple[int, str]], at: int, refs: list[TextRef]
) -> tuple[int, list[tuple[TextRef, Decimal, Decimal, Decimal]]] | None:
    """The table whose header is line ``at``: the line after it, and for each invoice number
    read in its rows, its paid amount and the discount and deduction taken; None when line
    ``at`` is no such header, its rows none of ours, or a row's figures do not agree."""
    header = _header(*lines[at])
    if header is None or header[1].count("invoice") != 1:
        return None
    separator, kinds, _ = header
    taken = [n for n, k in enumerate(kinds) if k in ("discount", "deduction")]
    paid = [n for n, k in enumerate(kinds) if k == "paid"]
    if not paid and "tax" not in kinds and (taken or not {"gross", "amount"} & set(kinds)):
        paid = [n for n, k in enumerate(kinds) if k == "net"]  # NET after a discount, no tax
    if len(paid) != 1:
        return None
    base = [n for n, k in enumerate(kinds) if k == "gross"]
    if not base and taken:
        base = [n for n, k in enumerate(kinds) if k == "amount"]  # AMOUNT less a DEDUCTION
    rows: list[tuple[TextRef, Decimal, Decimal, Decimal]] = []
    column = kinds.index("invoice")
    at, table = _rows(lines, at + 1, separator, kinds)
    for cells, _, amounts in table:
        s, e = cells[column]
        groups = {ref.group for ref in refs if s <= ref.start < e}
        mine = [r for r in refs if r.group in groups and r.kind == "invoice" and r.how in _STATED]
        discount = sum((amounts[n] for n in taken if kinds[n] == "discount"), Decimal(0))
        deduction = sum((amounts[n] for n in taken if kinds[n] == "deduction"), Decimal(0))
        got = amounts[paid[0]]
        if got < 0 and any(v > 0 for n, v in amounts.items() if kinds[n] in ("gross", "amount")):
            got = -got  # paid written in an accountant's brackets beside the invoice's amount
        if len(groups) > 1 or (
            len(base) == 1 and taken and amounts[base[0]] - discount - deduction != got
        ):
            return None  # two numbers in one cell, or figures that do not agree: no guess
        rows += [(ref, got, discount, deduction) for ref in mine]
    return (at, rows) if rows else None


# a table's purchase order column: its numbers are the payer's POs
_PO_COLUMN = re.compile(
    rf"p\s?o{_NUMBER_WORDS}|purchase\s+order{_NUMBER_WORDS}|bestell(?:ung|{_NR}|ungs{_NR})",
    re.IGNORECASE,
)


# a table's cell saying its row is a credit memo (a Type column's CM, Credit, Gutschrift)
_CREDIT_CELL = re.compile(rf"{_CREDIT_LABEL}|cr|credits?", re.IGNORECASE)


def _credit_cell(value: str) -> bool:
    """Whether a table's cell names a credit memo (``CM-501``, ``Credit memo 501``, a Type
    column's ``CM``)."""
    if _CREDIT_CELL.fullmatch(value.strip()):
        return True
    m = _TOKEN.search(value)
    return bool(
        m
        and (m.group("credit") or _label_prefix(m.group("token").strip("/._-")) in _CREDIT_PREFIXES)
    )


def _table_columns(reading: TextReading, text: str) -> list[tuple[TextRef, Decimal]]:
    """Read the columns of remittance tables under a header: a number standing in a column
    other than the invoice column (a PO, the payer's reference, a description) is no invoice
    (a PO column's is a PO; a Reference column may be ours and is read as written), a number
    is never continued into the next cell, and an invoice cell is a credit memo only when its
    row says so (not for the credit memo in the row above). With an ``Amount`` the one money
    column (and no Reference column), each invoice's amount there is returned, to be set once
    the amounts written after numbers are."""
    lines = _lines(text)
    lone: list[tuple[TextRef, Decimal]] = []
    drop: set[int] = set()
    at = 0
    while at < len(lines):
        header = _header(*lines[at])
        if header is None:
            at += 1
            continue
        separator, kinds, names = header
        end, rows = _rows(lines, at + 1, separator, kinds)
        at = end if rows else at + 1
        column = kinds.index("invoice") if kinds.count("invoice") == 1 else None
        money = [n for n, k in enumerate(kinds) if k in _MONEY_COLUMNS]
        for cells, values, amounts in rows:
            for n, (s, e) in enumerate(cells):
                inside = [r for r in reading.refs if s <= r.start < e and id(r) not in drop]
                cell_key = document_key(values[n])
                drop.update(id(r) for r in inside if r.how == "joined" and r.keys[0][0] != cell_key)
                if column is None:
                    continue
                if n != column:
                    if kinds[n] == "reference" and not re.match(r"our|unser", names[n], re.I):
                        continue  # a reference may be our invoice's number: read as written
                    for ref in inside:
                        drop.add(id(ref))
                        if ref.how == "written":
                            why = f"a table's {names[n]} column"
                            reading.ignored.append({"written": ref.written, "why": why})
                    known = {key for po in reading.pos for key, _ in po.keys}
                    if inside and _PO_COLUMN.fullmatch(names[n]) and po_key(values[n]) not in known:
                        reading.pos.append(
                            TextRef(
                                values[n], [(po_key(values[n]), "as written")], "po", True, start=s
                            )
                        )
                    continue
                # the row's own word for it (CM 501, 501 Credit Memo), else an invoice (not
                # the credit memo of the row above)
                credit = any(_credit_cell(value) for value in values)
                for ref in inside:
                    ref.kind = "credit" if credit else "invoice"
                # beside a reference column, which number is ours is not sure: no amount
                if len(money) == 1 and kinds[money[0]] == "amount" and "reference" not in kinds:
                    lone += [
                        (ref, amounts[money[0]])
                        for ref in inside
                        if ref.kind == "invoice" and ref.how in _STATED and id(ref) not in drop
                    ]
    reading.refs = [ref for ref in reading.refs if id(ref) not in drop]
    return lone


def text_tokens(text: str | None) -> list[tuple[str, str]]:
    """Candidate document keys in free text, as (what was written, normalised key); purchase
    order numbers too (their invoices bear them as POs).

    ``INV-001234``, ``inv 1234``, ``#1234`` and ``Invoice No. 1234`` all give ``1234``; a
    token whose letters look like digits (``1O23``) is read the OCR way too.
    """
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    reading = read_references(text)
    for ref in [*reading.refs, *reading.pos]:
        for key, _ in ref.keys:
            if key not in seen:
                seen.add(key)
                found.append((ref.written, key))
    return found
