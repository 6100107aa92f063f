"""The words of what renewquote prints and mails (the PDF, the mail, the link's page), in
French and English."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "fr")


def words_for(language: str) -> Mapping[str, str]:
    """Return the words of a language, English for one renewquote does not speak."""
    return WORDS.get(language, WORDS["en"])


WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Quote",
        "number": "No. {number}",
        "type.renewal": "Renewal quote",
        "type.new": "New subscription quote",
        "type.co-term": "Co-term quote",
        "status.draft": "Draft",
        "status.sent": "Sent",
        "status.ordered": "Ordered",
        "status.expired": "Expired",
        "status.cancelled": "Cancelled",
        "status.superseded": "Superseded",
        "customer": "Customer",
        "csn": "CSN {csn}",
        "tax_id": "VAT no. {tax_id}",
        "buyer": "Buyer: {name}",
        "support": "Questions: {email}",
        "partner": "Reseller of record",
        "partner_csn": "Partner CSN {csn}",
        "direct": "Purchase method",
        "direct_from": "Direct from {vendor}",
        "direct_note": "No reseller of record",
        "created": "Created on",
        "sent": "Sent on",
        "valid_until": "Valid until",
        "currency": "Currency",
        "replaces": "Replaces",
        "recipients": "Quote recipients",
        "col.offering": "Offering",
        "col.subscription": "Subscription",
        "col.seats": "Seats",
        "col.term": "Term",
        "col.period": "Period",
        "col.unit_price": "Unit price",
        "col.discount": "Discount",
        "col.amount": "Amount",
        "kind.new": "New subscription",
        "kind.co-term": "Co-term",
        "aligned_to": "with {subscription}",
        "term.monthly": "Monthly",
        "term.annual": "Annual",
        "term.3-year": "3-year",
        "promotion": "Promotion: {name}",
        "subtotal": "Subtotal",
        "discounts": "Discounts",
        "tax": "Estimated tax ({rate})",
        "total": "Total",
        "amounts_note": (
            "Amounts in {currency}. Line amounts exclude tax; tax is estimated from the "
            "customer's country."
        ),
        "footer": (
            "Prices on this quote are locked until {date}. To order, open this quote in your "
            "account (Billing and orders > Quotes) and check out."
        ),
        "page": "Page {page} of {pages}",
        "mail.subject.quote": "Quote {number} from {seller}: {total}",
        "mail.subject.reminder": "Reminder: quote {number} from {seller} expires on {date}",
        "mail.subject.new_link": "Your new link to quote {number} from {seller}",
        "mail.greeting": "Hello {name},",
        "mail.greeting_anonymous": "Hello,",
        "mail.intro.quote": "{seller} has sent you quote {number} for {customer}.",
        "mail.intro.reminder": (
            "Quote {number} that {seller} sent you for {customer} expires on {date}."
        ),
        "mail.intro.new_link": "Here is a new link to quote {number} for {customer}, as asked.",
        "mail.order.subject": "Order {order} confirmed (quote {number})",
        "mail.order.intro": (
            "Thank you: order {order} of quote {number} for {customer} is placed, and these "
            "subscriptions are renewed."
        ),
        "mail.order.total": "Total: {total}, paid by {method}.",
        "mail.total": "Total: {total} including estimated tax, valid until {date}.",
        "mail.link": "See the quote and buy it online:",
        "mail.button": "See and buy the quote",
        "mail.personal": (
            "This link is yours alone and needs no account; it works until {date} while the "
            "quote is open."
        ),
        "mail.pdf": "The quote is attached as a PDF.",
        "link.title": "Quote {number}",
        "link.for": "For {customer}, from {seller}",
        "link.pdf": "Download the PDF",
        "link.buy": "How to buy",
        "link.buy_text": (
            "You can also order from your account (Billing and orders > Quotes), or forward "
            "the mail to whoever pays."
        ),
        "link.gone_title": "This link does not open a quote",
        "link.gone_text": (
            "It may be mistyped or incomplete, or the quote it opened has been replaced, "
            "cancelled, ordered or has expired. Ask whoever sent it to you for a new quote."
        ),
        "link.language": "Language",
        "link.payment": "Payment",
        "link.card_number": "Card number",
        "link.buy_button": "Buy now: {total}",
        "link.problems": "The order was not placed:",
        "link.ordered_title": "Quote {number} is ordered",
        "link.ordered_text": (
            "Thank you. Order {order} for {total} is placed and the subscriptions are renewed; "
            "a confirmation follows by mail."
        ),
        "link.form_expired_title": "This form has expired",
        "link.form_expired_text": (
            "Nothing was ordered. Open the link from your mail again and buy from that page."
        ),
        "link.expired_title": "This link has expired",
        "link.expired_text": (
            "The quote is still open: ask for a new link and it will be mailed to the address "
            "this one was sent to."
        ),
        "link.new_link_button": "Send me a new link",
        "link.new_link_title": "A new link is on its way",
        "link.new_link_text": "It was mailed to {email}.",
        "pay.card": "Card",
        "pay.paypal": "PayPal",
        "pay.invoice": "Invoice",
    },
    "fr": {
        "title": "Devis",
        "number": "N° {number}",
        "type.renewal": "Devis de renouvellement",
        "type.new": "Devis de nouvel abonnement",
        "type.co-term": "Devis de regroupement",
        "status.draft": "Brouillon",
        "status.sent": "Envoyé",
        "status.ordered": "Commandé",
        "status.expired": "Expiré",
        "status.cancelled": "Annulé",
        "status.superseded": "Remplacé",
        "customer": "Client",
        "csn": "NSC {csn}",
        "tax_id": "N° TVA {tax_id}",
        "buyer": "Acheteur : {name}",
        "support": "Questions : {email}",
        "partner": "Agent enregistré",
        "partner_csn": "NSC du partenaire {csn}",
        "direct": "Méthode d'achat",
        "direct_from": "Directement auprès de {vendor}",
        "direct_note": "Sans agent enregistré",
        "created": "Date de création",
        "sent": "Envoyé le",
        "valid_until": "Valable jusqu'au",
        "currency": "Devise",
        "replaces": "Remplace",
        "recipients": "Destinataires du devis",
        "col.offering": "Offre",
        "col.subscription": "Abonnement",
        "col.seats": "Postes",
        "col.term": "Durée",
        "col.period": "Période",
        "col.unit_price": "Prix unitaire",
        "col.discount": "Remise",
        "col.amount": "Montant",
        "kind.new": "Nouvel abonnement",
        "kind.co-term": "Regroupement",
        "aligned_to": "avec {subscription}",
        "term.monthly": "Mensuel",
        "term.annual": "Annuel",
        "term.3-year": "3 ans",
        "promotion": "Promotion : {name}",
        "subtotal": "Sous-total",
        "discounts": "Remises",
        "tax": "Taxes estimées ({rate})",
        "total": "Total",
        "amounts_note": (
            "Montants en {currency}. Les montants des lignes s'entendent hors taxes ; les taxes "
            "sont estimées selon le pays du client."
        ),
        "footer": (
            "Les prix de ce devis sont garantis jusqu'au {date}. Pour commander, ouvrez ce devis "
            "dans votre compte (Facturation et commandes > Devis) et passez la commande."
        ),
        "page": "Page {page} sur {pages}",
        "mail.subject.quote": "Devis {number} de {seller} : {total}",
        "mail.subject.reminder": "Rappel : le devis {number} de {seller} expire le {date}",
        "mail.subject.new_link": "Votre nouveau lien vers le devis {number} de {seller}",
        "mail.greeting": "Bonjour {name},",
        "mail.greeting_anonymous": "Bonjour,",
        "mail.intro.quote": "{seller} vous a envoyé le devis {number} pour {customer}.",
        "mail.intro.reminder": (
            "Le devis {number} que {seller} vous a envoyé pour {customer} expire le {date}."
        ),
        "mail.intro.new_link": (
            "Voici, comme demandé, un nouveau lien vers le devis {number} pour {customer}."
        ),
        "mail.order.subject": "Commande {order} confirmée (devis {number})",
        "mail.order.intro": (
            "Merci : la commande {order} du devis {number} pour {customer} est passée, et ces "
            "abonnements sont renouvelés."
        ),
        "mail.order.total": "Total : {total}, payé par {method}.",
        "mail.total": "Total : {total} taxes estimées comprises, valable jusqu'au {date}.",
        "mail.link": "Consultez le devis et commandez-le en ligne :",
        "mail.button": "Voir et commander le devis",
        "mail.personal": (
            "Ce lien vous est personnel et ne demande aucun compte ; il fonctionne jusqu'au "
            "{date} tant que le devis est ouvert."
        ),
        "mail.pdf": "Le devis est joint au format PDF.",
        "link.title": "Devis {number}",
        "link.for": "Pour {customer}, de la part de {seller}",
        "link.pdf": "Télécharger le PDF",
        "link.buy": "Commander",
        "link.buy_text": (
            "Vous pouvez aussi commander depuis votre compte (Facturation et commandes > "
            "Devis), ou transmettre l'e-mail à la personne qui paie."
        ),
        "link.gone_title": "Ce lien n'ouvre aucun devis",
        "link.gone_text": (
            "Il est peut-être incomplet ou mal recopié, ou le devis qu'il ouvrait a été "
            "remplacé, annulé, commandé ou a expiré. Demandez un nouveau devis à la personne "
            "qui vous l'a envoyé."
        ),
        "link.language": "Langue",
        "link.payment": "Paiement",
        "link.card_number": "Numéro de carte",
        "link.buy_button": "Commander : {total}",
        "link.problems": "La commande n'a pas été passée :",
        "link.ordered_title": "Le devis {number} est commandé",
        "link.ordered_text": (
            "Merci. La commande {order} de {total} est passée et les abonnements sont "
            "renouvelés ; une confirmation suit par e-mail."
        ),
        "link.form_expired_title": "Ce formulaire a expiré",
        "link.form_expired_text": (
            "Rien n'a été commandé. Rouvrez le lien de votre e-mail et commandez depuis cette page."
        ),
        "link.expired_title": "Ce lien a expiré",
        "link.expired_text": (
            "Le devis est toujours ouvert : demandez un nouveau lien, il sera envoyé à "
            "l'adresse qui a reçu celui-ci."
        ),
        "link.new_link_button": "M'envoyer un nouveau lien",
        "link.new_link_title": "Un nouveau lien est en route",
        "link.new_link_text": "Il a été envoyé à {email}.",
        "pay.card": "Carte",
        "pay.paypal": "PayPal",
        "pay.invoice": "Facture",
    },
}
