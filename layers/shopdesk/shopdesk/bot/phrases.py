"""The bot's own words in the seven customer languages (English when a language is missing)."""

# ruff: noqa: E501, RUF001 - sentences in seven languages, on purpose

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "en": {"source": "More: {url}", "solved": "Did this answer your question?", "yes": "Yes, thanks", "no": "No",
           "words": "Reply SOLVED, or tell us what is still missing.",   # not YES: Twilio answers that keyword itself
           "order": "Your order {name}: {status}.", "tracking": "{carrier} tracking: {url}", "no_tracking": "It has no tracking link yet.",
           "verify": "To tell you about order {number} I need to check it is yours: please send the email address or the postcode of the order.",
           "ask_order": "I could not find an order under this contact. Please send the order number together with the email address or the postcode the order was placed with.",
           "glad": "Glad it helped! If anything else comes up, just write here."},
    "es": {"source": "Más información: {url}", "solved": "¿Esto responde a tu pregunta?", "yes": "Sí, gracias", "no": "No",
           "words": "Responde SÍ o NO.",
           "order": "Tu pedido {name}: {status}.", "tracking": "Seguimiento de {carrier}: {url}", "no_tracking": "Todavía no tiene enlace de seguimiento.",
           "verify": "Para darte información del pedido {number} necesito comprobar que es tuyo: envíame el correo electrónico o el código postal del pedido.",
           "ask_order": "No encuentro ningún pedido con este contacto. Envíame el número del pedido junto con el correo electrónico o el código postal con el que se hizo.",
           "glad": "¡Me alegra haber ayudado! Si necesitas algo más, escribe aquí."},
    "pt": {"source": "Saiba mais: {url}", "solved": "Isso respondeu à sua pergunta?", "yes": "Sim, obrigado", "no": "Não",
           "words": "Responda SIM ou NÃO.",
           "order": "Seu pedido {name}: {status}.", "tracking": "Rastreamento {carrier}: {url}", "no_tracking": "Ainda não tem link de rastreamento.",
           "verify": "Para falar do pedido {number} preciso confirmar que ele é seu: envie o e-mail ou o CEP do pedido.",
           "ask_order": "Não encontrei nenhum pedido com este contato. Envie o número do pedido junto com o e-mail ou o CEP usado na compra.",
           "glad": "Que bom que ajudou! Se precisar de mais alguma coisa, é só escrever aqui."},
    "de": {"source": "Mehr dazu: {url}", "solved": "Hat das Ihre Frage beantwortet?", "yes": "Ja, danke", "no": "Nein",
           "words": "Antworten Sie mit JA oder NEIN.",
           "order": "Ihre Bestellung {name}: {status}.", "tracking": "Sendungsverfolgung {carrier}: {url}", "no_tracking": "Sie hat noch keinen Tracking-Link.",
           "verify": "Damit ich Ihnen etwas zu Bestellung {number} sagen kann, muss ich prüfen, dass sie Ihnen gehört: Schicken Sie mir bitte die E-Mail-Adresse oder die Postleitzahl der Bestellung.",
           "ask_order": "Ich finde unter diesem Kontakt keine Bestellung. Schicken Sie mir bitte die Bestellnummer zusammen mit der E-Mail-Adresse oder der Postleitzahl der Bestellung.",
           "glad": "Schön, dass es geholfen hat! Wenn noch etwas ist, schreiben Sie einfach hier."},
    "tr": {"source": "Ayrıntılar: {url}", "solved": "Bu sorunuzu yanıtladı mı?", "yes": "Evet, teşekkürler", "no": "Hayır",
           "words": "EVET veya HAYIR yazın.",
           "order": "{name} numaralı siparişiniz: {status}.", "tracking": "{carrier} takip: {url}", "no_tracking": "Henüz takip bağlantısı yok.",
           "verify": "{number} numaralı sipariş hakkında bilgi verebilmem için siparişin size ait olduğunu doğrulamam gerekiyor: lütfen siparişteki e-posta adresini veya posta kodunu gönderin.",
           "ask_order": "Bu iletişim bilgisiyle bir sipariş bulamadım. Lütfen sipariş numarasını, siparişteki e-posta adresi veya posta koduyla birlikte gönderin.",
           "glad": "Yardımcı olabildiysem ne mutlu! Başka bir şey olursa buraya yazmanız yeterli."},
    "id": {"source": "Selengkapnya: {url}", "solved": "Apakah ini menjawab pertanyaan Anda?", "yes": "Ya, terima kasih", "no": "Tidak",
           "words": "Balas YA atau TIDAK.",
           "order": "Pesanan Anda {name}: {status}.", "tracking": "Lacak {carrier}: {url}", "no_tracking": "Belum ada tautan pelacakan.",
           "verify": "Untuk memberi info pesanan {number}, saya perlu memastikan pesanan itu milik Anda: kirimkan alamat email atau kode pos pesanan tersebut.",
           "ask_order": "Saya tidak menemukan pesanan dengan kontak ini. Kirimkan nomor pesanan beserta alamat email atau kode pos yang dipakai saat memesan.",
           "glad": "Senang bisa membantu! Jika ada hal lain, tulis saja di sini."},
    "sk": {"source": "Viac: {url}", "solved": "Odpovedalo to na vašu otázku?", "yes": "Áno, ďakujem", "no": "Nie",
           "words": "Odpovedzte ÁNO alebo NIE.",
           "order": "Vaša objednávka {name}: {status}.", "tracking": "Sledovanie {carrier}: {url}", "no_tracking": "Zatiaľ nemá odkaz na sledovanie.",
           "verify": "Aby som vám mohol povedať niečo o objednávke {number}, musím overiť, že je vaša: pošlite e-mailovú adresu alebo PSČ z objednávky.",
           "ask_order": "Pod týmto kontaktom som nenašiel žiadnu objednávku. Pošlite číslo objednávky spolu s e-mailovou adresou alebo PSČ, s ktorými bola vytvorená.",
           "glad": "Som rád, že to pomohlo! Ak budete potrebovať niečo ďalšie, napíšte sem."},
}

# An order's state in the customer's words (from the order's fulfilment and shipment status).
ORDER_STATES: dict[str, dict[str, str]] = {
    "en": {"cancelled": "cancelled", "delivered": "delivered", "in_transit": "on its way", "out_for_delivery": "out for delivery today",
           "shipped": "shipped", "processing": "being prepared for shipping", "refunded": "refunded"},
    "es": {"cancelled": "cancelado", "delivered": "entregado", "in_transit": "en camino", "out_for_delivery": "en reparto hoy",
           "shipped": "enviado", "processing": "en preparación para el envío", "refunded": "reembolsado"},
    "pt": {"cancelled": "cancelado", "delivered": "entregue", "in_transit": "em trânsito", "out_for_delivery": "saiu para entrega hoje",
           "shipped": "enviado", "processing": "em preparação para o envio", "refunded": "reembolsado"},
    "de": {"cancelled": "storniert", "delivered": "zugestellt", "in_transit": "unterwegs", "out_for_delivery": "heute in der Zustellung",
           "shipped": "versendet", "processing": "wird für den Versand vorbereitet", "refunded": "erstattet"},
    "tr": {"cancelled": "iptal edildi", "delivered": "teslim edildi", "in_transit": "yolda", "out_for_delivery": "bugün dağıtımda",
           "shipped": "kargoya verildi", "processing": "gönderim için hazırlanıyor", "refunded": "iade edildi"},
    "id": {"cancelled": "dibatalkan", "delivered": "sudah diterima", "in_transit": "dalam perjalanan", "out_for_delivery": "sedang diantar hari ini",
           "shipped": "sudah dikirim", "processing": "sedang disiapkan untuk dikirim", "refunded": "dana dikembalikan"},
    "sk": {"cancelled": "zrušená", "delivered": "doručená", "in_transit": "na ceste", "out_for_delivery": "dnes sa doručuje",
           "shipped": "odoslaná", "processing": "pripravuje sa na odoslanie", "refunded": "peniaze vrátené"},
}


def phrase(language: str | None, key: str, **values: str) -> str:
    table = PHRASES.get(language or "en", PHRASES["en"])
    return table.get(key, PHRASES["en"][key]).format(**values)


def order_state(language: str | None, state: str) -> str:
    table = ORDER_STATES.get(language or "en", ORDER_STATES["en"])
    return table.get(state, ORDER_STATES["en"].get(state, state))
