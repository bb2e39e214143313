"""Cue phrases per language: what marks an intent, a sentiment, an emotion or urgency in a customer message.

Why hand-written: no maintained package covers sentiment, emotion, urgency and these support intents in all
seven languages (VADER and AFINN are English; TextBlob adds French and German; the multilingual models on
PyPI need PyTorch or a download at run time). The lists below are the everyday vocabulary of e-commerce
support written from general knowledge of each language, not from the evaluation set (docs/understanding.md
says how they were measured). They are matched on folded text (lower case, accents removed, Turkish dotless
i as i, ß as ss), so ``nao``, ``tesekkurler`` and ``dakujem`` match like ``não``, ``teşekkürler`` and ``ďakujem``.

Pattern syntax (kept small so the lists stay readable):

- words separated by spaces match with any whitespace or punctuation between them;
- ``*`` at the end of a word: any ending (``cancel*`` matches ``cancelled``, Turkish ``siparis*`` every case);
- `` .. ``: up to three words in between (``not .. help*`` matches ``not really that helpful``);
- `` . ``: at most one word in between (``where is . order`` matches ``where is order``, ``where is the order``);
- ``#<n>``: an order number written with ``#`` (``#1002``); ``<n>``: a number of 3 to 12 digits (after an order word);
- ``(a|an)?`` as a whole word: one of these words or none (``talk to (a|an)? agent`` matches ``talk to agent``);
- ``$``: the clause ends there (punctuation or the end of the message follows).

"Again" on its own is no complaint ("hi again", "can you send the invoice again?", "thanks again", "wann ist
die Jacke wieder lieferbar?", "saya mau pesan lagi"): as with "still", only "again" in a complaint's context is a
negative or frustration cue (``AGAIN``: "broke again", "late again", "again and again", "asking again", "yet
again", "not again"), each language in its own words.

An order question that names the order without "my" ("What is the status of order 1002?", "Where is order
#1001?", "Any update on #1002?", "Cadê o pedido 1002?") is an order word or a ``#`` number in a status question's
frame (``ORDER_QUESTIONS``: where is, the status of, news about, has it shipped, when will it arrive), each language
in its own words; a number alone is no order ("I paid 1002 dollars", a phone number), and an order named for
something else (cancel, return, an invoice) is no status question. A few ``order_status`` cues only mention the
customer's order ("mi pedido", "meine Bestellung": ``ORDER_MENTIONS``): they make the intent, but the bot does not
read them as a status question (``asks_order_status``), so "¿Puedo cancelar mi pedido?" still gets its article.

A request for a person (the ``human`` intent) needs the form of a request, never a bare noun: talking or being put
through to someone, wanting or needing one, asking whether one is there, "connect me", "call me", "not a bot"
(``HUMAN_REQUESTS`` around ``HUMAN_WORDS``), or a word such as "agent", "human please", "Mitarbeiter bitte" that is
the whole message (``HUMAN_ALONE``). A sentence about a person asks for no one: "El agente fue muy amable" after a
survey's rating is its comment, "Someone finally helped me" thanks, "el agente de DHL dijo..." asks the FAQ.

A cue matches at word boundaries. ``yes`` and ``no`` cues match only at the start of a message (a reply to
"did this solve it?"), followed by punctuation or the end, or in a reply of at most four words; the others
anywhere.
"""

# ruff: noqa: RUF001 - Turkish, Slovak and other customer text on purpose

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

CATEGORIES = (
    # intents (shopdesk.understanding.INTENTS)
    "human", "order_status", "legal", "safety", "payment_account", "not_helpful", "yes", "no", "thanks",
    # sentiment and emotion
    "negative", "positive", "anger", "frustration",
    # urgency
    "deadline", "urgent",
    # what a message reports, for the bot (no intent, no sentiment): an item arrived damaged, faulty or wrong
    "damage",
)
ANCHORED = frozenset({"yes", "no"})

# "Again" when it complains: something went wrong once more, or the customer has to ask once more. Used in each
# language's negative and frustration lists instead of the bare word (a greeting, a request or thanks "again" is none).
AGAIN: dict[str, str] = {
    "en": """again and again | over and over | yet again | not again | same (problem|issue|thing) again
        | (broke|broken|breaks|late|delayed|wrong|damaged|missing|faulty|failed|stuck|lost|cancelled|canceled) again
        | (happened|happening|happens) again
        | (ask|asked|asking|tell|told|telling|explain|explained|explaining|chase|chased|chasing|remind|reminded) again
        | (ask|asked|asking|tell|told|telling|explain|explained|explaining|remind|reminded) (you|this|it|that) again
        | (fourth|fifth|umpteenth|nth) time""",
    "es": """una y otra vez | otra vez no | de nuevo no
        | (vuelto|volvio|vuelve) a (romperse|romper|fallar|estropearse|pasar)
        | (roto|rota|rompio|estropeado|estropeada|mal|equivocado|equivocada) (otra vez|de nuevo)
        | (tarde|retrasado|retrasada|perdido|perdida) (otra vez|de nuevo)
        | (otra vez|de nuevo) (roto|rota|tarde|mal|equivocado|equivocada|lo mismo|el mismo|la misma)
        | (cuarta|quinta|enesima) vez""",
    "pt": """de novo e de novo | outra vez nao | de novo nao | voltou a (quebrar|atrasar|falhar|acontecer|dar)
        | (quebrou|quebrado|quebrada|estragou|estragado|estragada|falhou) (de novo|outra vez)
        | (atrasou|atrasado|atrasada|errado|errada|sumiu) (de novo|outra vez)
        | (de novo|outra vez) (quebrado|quebrada|atrasado|atrasada|errado|errada|a mesma|o mesmo)
        | (quarta|quinta|enesima) vez""",
    "de": """schon wieder | immer wieder | wieder (kaputt|defekt|falsch|beschadigt|verspatet|nicht|dasselbe)
        | wieder zu spat | wieder das gleiche | wieder der gleiche | wieder die gleiche
        | zum (vierten|funften|zigsten) mal""",
    "tr": """tekrar tekrar | yine mi | yine ayni | tekrar ayni
        | (yine|tekrar) (bozuldu|bozuk|kirildi|kirik|gecikti|gelmedi|yanlis|eksik|hasarli|olmadi|calismiyor)
        | (dorduncu|besinci) kez""",
    "id": """lagi lagi | terulang lagi | kejadian lagi | belum (datang|sampai|nyampe) lagi
        | (rusak|telat|salah|terlambat|gagal|hilang|cacat|pecah|penyok|nyasar|error) lagi
        | (keempat|kelima) kalinya""",
    "sk": """znova a znova | zase a znova | stale dokola | uz zase | uz znova | uz opat
        | (zase|znova|opat) (pokazil|pokazila|pokazilo|rozbity|rozbita|rozbite|poskodeny|poskodena|nefunguje)
        | (zase|znova|opat) (neprisiel|neprisla|neprislo|meska|zly|zla|zle|chyba)""",
}

# What names an order in a status question: the language's words for an order or a parcel, or a "#" number (a number
# right after an order word is the "." or ".." that follows the word in the frames below).
ORDER_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("(order|parcel|package|shipment)", "#<n>"),
    "es": ("(pedido|paquete|envio|compra)", "#<n>"),
    "pt": ("(pedido|encomenda|pacote|compra)", "#<n>"),
    "de": ("(bestellung|paket|sendung|lieferung)", "#<n>"),
    "tr": ("(siparis|kargo|paket)*", "#<n>"),
    "id": ("(pesanan|paket|orderan|kiriman)", "order <n>", "#<n>"),     # "order" alone is the verb too
    "sk": ("(objednavk|balik|zasielk)*", "#<n>"),
}
# Status questions about a named order: ORDER is each of the language's ORDER_WORDS. Words saying it arrived
# ("llegó", "chegou", "angekommen") or will be shipped ("kargoya verilmeden") are left out: "el paquete llegó roto" and
# "cancel it before it goes to the carrier" tell something, they do not ask where the order is.
ORDER_QUESTIONS: dict[str, tuple[str, ...]] = {
    "en": ("(where|wheres) (is|s|are) . ORDER", "wheres . ORDER", "status (of|for|on) . ORDER", "ORDER . status",
           "(update|updates|news|info|information) (on|about|for|regarding|of) . ORDER",
           "(has|have|did|was|is) . ORDER .. (shipped|ship|sent|dispatched|delivered|arrived|posted)",
           "when (will|does|is|do|should) . ORDER .. (arrive|arriving|come|coming|ship|shipping|delivered|sent|here)",
           "track . ORDER"),
    "es": ("donde (esta|estan|anda|queda) . ORDER", "estado (de|del) . ORDER",
           "(novedad|novedades|noticias|noticia|actualizacion|informacion) (de|del|sobre|acerca) . ORDER",
           "se (envio|mando|despacho) . ORDER", "(enviaron|enviasteis|mandaron|despacharon) . ORDER",
           "ORDER .. (enviado|enviada|despachado|despachada|salio)",
           "cuando (llega|llegara|sale|saldra|envian|enviaran) . ORDER"),
    "pt": ("cade . ORDER", "onde (esta|ta|anda|fica) . ORDER", "(status|situacao|estado) (do|da|de) . ORDER",
           "(novidade|novidades|noticias|atualizacao|informacao|informacoes) (do|da|de|sobre) . ORDER",
           "ORDER .. (enviado|enviada|despachado|despachada|saiu)",
           "quando (chega|sai) . ORDER"),
    "de": ("wo (ist|bleibt|steckt|sind) . ORDER", "status (der|des|von|zu|zur) . ORDER",
           "(neuigkeiten|neues|update|infos|info|stand) (zu|zur|zum|uber|von|der|bei) . ORDER",
           "ORDER .. (unterwegs|verschickt|versendet|versandt|raus)",
           "wann (kommt|kommen|wird|geht) . ORDER"),
    "tr": ("ORDER .. nerede", "ORDER .. ne durumda", "ORDER .. (durumu|durumunu|durum)",
           "ORDER .. (gelisme|haber|bilgi|guncelleme)", "ORDER .. (kargoda|yolda|gonderildi)"),
    "id": ("(status|kabar|update|info) . ORDER", "(gimana|bagaimana) . ORDER", "ORDER .. di mana",
           "ORDER .. dimana", "ORDER .. (sampai|nyampe) mana", "ORDER .. (sudah|udah) (dikirim|sampai|jalan)"),
    "sk": ("kde (je|su) . ORDER", "stav . ORDER",
           "(novinka|novinky|novinku|info|informacie|aktualizacia|spravy) (k|ku|o|ohladom|ohladne|pre) . ORDER",
           "kedy (pride|dorazi|bude|odide|odoslete|odosleme) . ORDER"),
}
# order_status cues that only mention the customer's order: an intent, not a status question (asks_order_status)
ORDER_MENTIONS = frozenset({"parcel", "mi pedido", "meu pedido", "minha encomenda", "meine bestellung", "mein paket",
                            "pesanan saya", "pesananku", "paket saya", "paketku", "moja objednavka", "moj balik"})


def _order_questions(language: str) -> str:
    return " | ".join(frame.replace("ORDER", words) for frame in ORDER_QUESTIONS[language]
                      for words in ORDER_WORDS[language])


# Who a customer asks for (PERSON in HUMAN_REQUESTS): a person, an agent, the customer service, in each language's
# words, with what may stand before them ("real", "live", "echten", "canli", "zivym").
HUMAN_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("(real|live|actual|proper|human)? (person|human|humans|agent|agents|representative|rep|operator|manager"
           "|supervisor)", "(someone|somebody|anyone|anybody)", "(real|live|actual|human) (people|staff|being)",
           "(customer|client) (service|support|care)", "(support|service) (team|staff|agent|rep)",
           "member of . (staff|team)"),
    "es": ("(persona|personas|humano|humana|agente|asesor|asesora|operador|operadora|teleoperador|teleoperadora"
           "|encargado|encargada|supervisor|supervisora|responsable|gerente|representante|alguien|nadie)",
           "ser humano", "(atencion|servicio) al cliente"),
    "pt": ("(pessoa|pessoas|humano|humana|atendente|agente|alguem|ninguem|operador|operadora|gerente|supervisor"
           "|supervisora|responsavel|funcionario|funcionaria|consultor|consultora|representante)",
           "ser humano", "(atendimento|suporte) humano", "(atendimento|servico|suporte) ao cliente", "sac"),
    "de": ("(echten|echter|echte|echtem|richtigen|richtiger|richtige|richtigem|lebenden|menschlichen|realen)? (mensch"
           "|menschen|mitarbeiter|mitarbeiterin|mitarbeitern|mitarbeitende|mitarbeitenden|servicemitarbeiter"
           "|servicemitarbeiterin|person|berater|beraterin|kundenberater|kundenberaterin|vorgesetzten|vorgesetzte"
           "|vorgesetzter|chef|chefin|ansprechpartner|ansprechpartnerin|betreuer|betreuerin|kundenservice"
           "|kundendienst|support|agent|agenten|operator)",
           "(jemand|jemandem|jemanden|irgendjemand|irgendjemandem|irgendjemanden|irgendwem|irgendwen)"),
    "tr": ("(gercek|canli)? (bir)? (insan|temsilci|yetkili|operator|calisan|gorevli|personel|eleman)*",
           "(gercek|canli)? (bir)? (kisi|kisiyle|kisiye|kisiyi)", "canli (destek|desteg)*", "musteri hizmet*",
           "(biri|birisi|biriyle|birisiyle|birine|birisine|birileriyle|kimse|kimseyle)"),
    "id": ("(seorang)? (manusia|orang|cs|admin|agen|operator|petugas|staf|staff|karyawan|pegawai|manajer|atasan"
           "|supervisor|human)", "customer (service|care|support)", "layanan pelanggan", "(pihak|tim) (toko|cs|admin)"),
    "sk": ("(zivy|zivym|ziveho|zivou|zivu|ziva|skutocny|skutocnym|skutocneho|skutocnou|realny|realnym|realneho"
           "|normalny|normalnym|normalneho|nejaky|nejakym|nejakeho|nejakou|nejaku)? (clovek|cloveka|clovekom|cloveku"
           "|ludmi|ludom|operator|operatora|operatorom|operatorovi|operatorka|operatorku|operatorkou|pracovnik"
           "|pracovnika|pracovnikom|pracovnicka|pracovnicku|pracovnickou|veduci|veduceho|veducim|veducou|veducu"
           "|asistent|asistenta|asistentom|asistentka|asistentku|asistentkou|zamestnanec|zamestnanca|zamestnancom"
           "|podpora|podporu|podporou|technik|technika|technikom)",
           "(niekto|niekoho|niekym|niekomu|nikto|nikoho)",
           "zakaznick* (servis|servisu|servisom|podpora|podporu|podporou|centrum|linka|linku|linkou|oddelenie)"),
}
# A request for a person: talking or being put through to one, wanting or needing one, asking whether one is there;
# and the requests that name no one ("connect me", "call me", "not a bot"). A sentence about a person is none ("the
# agent was very kind", "someone helped me", "el agente de DHL dijo...", "Der Mitarbeiter war sehr freundlich").
HUMAN_REQUESTS: dict[str, tuple[str, ...]] = {
    "en": ("(talk|speak|chat) (to|with) (a|an|the|some|one|your|any)? PERSON",
           "(want|need|request|prefer|demand) (a|an|some|one)? PERSON", "(id|would) like (a|an|some|one)? PERSON",
           "(get|give|find|bring|send) me (a|an|the|some|one|your)? PERSON",
           "(can|could|may) (i|we) (get|have|see) (a|an|the|some|one|your)? PERSON",
           "(is|are) there (a|an|any|some|one)? PERSON",
           "(is|are) (anyone|anybody|someone|somebody) (there|here|available|around|real|human)",
           "(connect|transfer) (me|us)", "(put|pass|hand) (me|us) (to|through|over)", "escalate (this|it|me|my)",
           "call me", "(phone|ring) me", "give me a call",
           "not (a|the|your|this) (bot|robot|machine|chatbot|assistant|ai)",
           "no (more)? (bot|bots|robot|robots|chatbot|chatbots|machines)",
           "(dont|do not) want (a|the|your|this)? (bot|robot|machine|chatbot|ai|assistant)",
           "(dont|do not) want to (talk|speak|chat) (to|with) (a|the|your|this)? (bot|robot|machine|chatbot|ai)"),
    "es": ("(hablar|hablarlo|charlar|chatear|conversar|comunicarme|comunicarnos) con (un|una|el|la|algun|alguna|su"
           "|vuestro|vuestra|tu|otro|otra)? PERSON",
           "(quiero|quisiera|querria|queria|necesito|necesitaria|prefiero|pido|exijo|solicito|busco|dame|deme|denme"
           "|dadme) (un|una|algun|alguna|a)? PERSON",
           "(me|nos) (pasas|pasais|pasan|pasa|pones|poneis|ponen|pone|comunicas|comunicais|comunican|comunica"
           "|transfieres|transferis|transfieren|transfiere|derivas|derivais|derivan|deriva|conectas|conectais|conectan"
           "|conecta) con (un|una|el|la|algun|alguna|otro|otra)? PERSON",
           "(me|nos) (puedes|podeis|pueden|puede|podrias|podriais|podrian|podria) (pasar|poner|comunicar|transferir"
           "|derivar|conectar) con", "(me|nos) (puedes|podeis|pueden|puede|podrias|podriais|podrian|podria) llamar",
           "(puedes|podeis|pueden|puede|podrias|podriais|podrian|podria) (pasarme|ponerme|comunicarme|transferirme"
           "|derivarme|conectarme) con", "(puedes|podeis|pueden|puede|podrias|podriais|podrian|podria) llamarme",
           "(pasame|pasadme|paseme|pasenme|ponme|ponedme|pongame|ponganme|comunicame|comunicadme|comuniqueme"
           "|comuniquenme|conectame|conectadme|conecteme|conectenme|transfiereme|transferidme|transfierame|derivame"
           "|derivadme|deriveme) con",
           "(hay|habra|existe) (un|una|algun|alguna)? PERSON", "(llamadme|llamame|llameme|llamenme)",
           "no quiero (un|una|el|la|mas)? (robot|robots|bot|bots|maquina|maquinas|chatbot)",
           "no quiero hablar con (un|una|el|la)? (robot|bot|maquina|chatbot)",
           "(basta|harto|harta) de (robot|robots|bot|bots|maquinas|chatbot)",
           "no mas (robot|robots|bot|bots|maquinas|chatbot)"),
    "pt": ("(falar|conversar|papear|comunicar) com (um|uma|o|a|algum|alguma|seu|sua|outro|outra)? PERSON",
           "(quero|queria|preciso|precisava|prefiro|exijo|peco|solicito|gostaria|desejo) (de)? (um|uma|algum|alguma)?"
           " PERSON",
           "(passa|passe|passem|transfere|transfira|transfiram|coloca|coloque|coloquem|conecta|conecte|conectem"
           "|encaminha|encaminhe|encaminhem|direciona|direcione) (me)? (para|pra|pro|com|ao|a)?"
           " (um|uma|o|a|algum|alguma)? PERSON",
           "me (transfere|transfira|transfiram|transferir|transferem)",
           "(tem|ha|existe|teria) (um|uma|algum|alguma)? PERSON",
           "me (liguem|ligue|liga|ligar|ligarem|telefonem|telefone)", "(liguem|ligue|telefonem) (para|pra) mim",
           "(chega|cansei|cansado|cansada) de (robo|robos|bot|bots|maquina|chatbot)",
           "nao quero (um|uma|o|a)? (robo|bot|maquina|chatbot)",
           "nao quero falar com (um|uma|o|a)? (robo|bot|maquina|chatbot)"),
    "de": ("mit (einem|einer|dem|der|ihrem|ihrer|eurem|eurer)? PERSON . (sprechen|reden|chatten|telefonieren"
           "|schreiben|verbinden|kommunizieren)",
           "(einen|den|ihren|euren) PERSON sprechen", "(jemanden|irgendjemanden|irgendwen) sprechen",
           "mit (einem|einer|dem|der|ihrem|ihrer|eurem|eurer)? PERSON verbunden werden",
           "(sprechen|reden|chatten|telefonieren) mit (einem|einer|dem|der|ihrem|ihrer|eurem|eurer)? PERSON",
           "(an|zu) (einen|eine|ein|einem|einer|den|die|dem|der|ihren|ihre)? PERSON . (weiterleiten|weitervermitteln"
           "|durchstellen|verbinden|vermitteln)",
           "(verbinden|verbindet|verbinde|leiten|leitet|stellen|stellt|vermitteln|vermittelt) (sie|ihr)? mich",
           "mich .. (verbinden|weiterleiten|durchstellen|weitervermitteln)",
           "(will|mochte|brauche|wunsche|verlange|wollen|mochten|brauchen) (einen|eine|ein)? PERSON $",
           "(will|mochte|brauche|wunsche|verlange|wollen|mochten|brauchen) (einen|eine|ein)? PERSON (bitte|sofort"
           "|jetzt)",
           "(hatte|hatten) (gern|gerne|lieber) (einen|eine|ein)? PERSON",
           "gibt es (hier|da|dort)? (einen|eine|ein|irgendeinen)? PERSON",
           "ist (da|hier|dort) (ein|eine|irgendein)? PERSON",
           "(kein|keinen|keine) (bot|bots|roboter|chatbot|chatbots|ki)",
           "nicht (mit)? (einem|dem)? (bot|roboter|chatbot|maschine)",
           "(rufen|ruft|ruf) (sie|ihr)? mich", "mich .. (anrufen|zuruckrufen)", "(bitte|um) (einen)? ruckruf",
           "ruckruf bitte"),
    "tr": ("PERSON . (gorusmek|gorusebilir*|gorusmem|gorusmeme|gorusmeliyim|konusmak|konusabilir*|konusmam"
           "|konusmama|konusmaliyim|baglanmak|baglanabilir*|baglayin|baglayiniz|baglar|baglayabilir*|aktarin"
           "|aktariniz|aktarir|aktarabilir*|yonlendirin|yonlendiriniz|yonlendirir|yonlendirebilir*)",
           "PERSON (istiyorum|istiyoruz|lazim|gerekiyor|ariyorum|rica)",
           "PERSON (var|yok) (mi|mu)", "PERSON varmi",
           "beni (arayin|arayiniz|arar|arayabilir*|arasin|arasiniz)", "(arayin|arayiniz) (beni|lutfen)",
           "(bot|robot|botla|robotla) . istemiyorum"),
    "id": ("(mau|ingin|pengen|pingin|pengin|pgn|minta|perlu|butuh|bisa|bisakah|boleh|bolehkah|tolong|mohon|harus) ."
           " (bicara|berbicara|ngobrol|ngomong|chat|chatting|bincang|berbincang|komunikasi|berkomunikasi|terhubung"
           "|dihubungkan|disambungkan|dialihkan|diarahkan|dioper|diteruskan|nyambung|disambungin|dihubungin|kontak"
           "|menghubungi|hubungi) (dengan|sama|ke|kepada|ama|dgn|sm)? PERSON",
           "(sambungkan|hubungkan|sambungin|hubungin|alihkan|arahkan|oper|teruskan) (saya|aku|sy|gw|gue|kami)?"
           " (ke|dengan|sama|kepada|ama|dgn)? PERSON",
           "(sambungkan|hubungkan|sambungin|hubungin) (saya|aku|sy|gw|gue|kami)",
           "(minta|mau|ingin|butuh|perlu|pengen|pingin) PERSON",
           "adakah PERSON", "(ada|ad) PERSON (gak|nggak|ga|enggak|ngga|kah)",
           "bukan (sama|dengan)? (bot|robot|mesin)",
           "(gak|nggak|ga|tidak|enggak|ogah|males|malas) mau .. (bot|robot|mesin)",
           "(jangan|tanpa) (bot|robot|mesin)",
           "(telpon|telepon|telfon|telp|tlp|hubungi|call) (saya|aku|sy|balik|gw)"),
    "sk": ("(hovorit|porozpravat|rozpravat|pohovorit|chatovat|komunikovat|spojit|prepojit|presmerovat) (sa)?"
           " (s|so|na)? PERSON",
           "(spojte|prepojte|presmerujte|spoj|prepoj|presmeruj) (ma|mna|nas)",
           "(spojte|prepojte|presmerujte|spoj|prepoj|presmeruj|dajte|daj) (mi|nam)? (s|so|na)? PERSON",
           "(chcem|chceme|potrebujem|potrebujeme|prosim|poprosim|ziadam|pozadujem) PERSON",
           "(chcel|chcela|chceli) by (som|sme) PERSON",
           "(je|su) (tam|tu) PERSON", "(je|su) (niekto|nikto) (tam|tu|dostupny|online)",
           "(nechcem|nechceme) (bota|robota|bot|robot|chatbota|stroj)",
           "(nechcem|nechceme) (hovorit|komunikovat|chatovat|pisat) (s|so) (botom|robotom|chatbotom|strojom)",
           "(ziadny|ziadneho|bez) (bot|bota|robot|robota|chatbot|chatbota)",
           "zavolajte", "(zavolaj|volajte) (mi|mne|nam)", "mi zavolat"),
}
# Words that ask for a person when they are the whole message, with at most the small words around them
# (HUMAN_POLITE): "agent", "Human please!", "¿Un agente?", "Mitarbeiter bitte", "admin dong", "operátora prosím".
HUMAN_ALONE: dict[str, str] = {
    "en": """person | human | humans | agent | live agent | representative | rep | operator | someone | somebody
        | anyone | anybody | real person | human being | customer service | customer support""",
    "es": """persona | humano | agente | asesor | asesora | operador | operadora | alguien | ser humano
        | atencion al cliente""",
    "pt": """pessoa | humano | atendente | agente | operador | operadora | alguem | ser humano | atendimento humano
        | atendimento ao cliente""",
    "de": """mensch | menschen | mitarbeiter | mitarbeiterin | person | berater | beraterin | kundenservice
        | kundendienst | support | agent | operator | jemand""",
    "tr": """insan | temsilci | musteri temsilcisi | canli destek | yetkili | operator | musteri hizmetleri""",
    "id": """admin | cs | manusia | agen | operator | petugas | customer service | layanan pelanggan""",
    "sk": """clovek | cloveka | operator | operatora | operatorka | operatorku | pracovnik | pracovnika | podpora
        | zakaznicky servis | zakaznicka podpora | zakaznicku podporu""",
}
HUMAN_POLITE: dict[str, str] = {
    "en": "a an please pls plz now asap hi hello hey real live actual human there here",
    "es": "un una por favor porfa porfavor ya ahora hola buenas real humano humana de verdad otro otra",
    "pt": "um uma por favor pf pfv porfavor agora ja oi ola real humano humana de verdade outro outra",
    "de": "ein eine einen echter echte echten bitte jetzt sofort hallo mit einem",
    "tr": "bir gercek canli lutfen hemen simdi merhaba selam",
    "id": "min kak ka kk gan sis dong donk pls please plis tolong mohon ya yaa asli halo hai hallo p bang mas mbak"
          " aja saja sama dengan ke manusia",
    "sk": "prosim hned teraz ahoj dobry den zivy ziveho zivu ziva nejaky nejakeho nejaku okamzite",
}


def _human_requests(language: str) -> str:
    frames = HUMAN_REQUESTS[language]
    return " | ".join(frame.replace("PERSON", who) if "PERSON" in frame else frame
                      for frame in frames for who in (HUMAN_WORDS[language] if "PERSON" in frame else ("",)))


def _human_alone(language: str) -> str:
    """The whole message is a word asking for a person, with at most polite small words around it."""
    said = "|".join(_pattern(c) for c in _split(HUMAN_ALONE[language]))
    polite = "|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in HUMAN_POLITE[language].split())
    return rf"^\W*(?:(?:{polite})\W+)*(?:{said})(?:\W+(?:{polite}|{said}))*\W*$"


CUES: dict[str, dict[str, str]] = {
    "en": {
        "human": _human_requests("en"),
        "order_status": f"""where is my | where*s my | wheres my | where my | order status | status of my order
            | has my order | has it shipped | shipped yet | tracking | track my | still not arrived
            | hasn*t arrived | hasnt arrived | not arrived | not received | never received | never got
            | didn*t receive | didnt receive | not here yet | when will my | when will it arrive | arrive in time
            | still waiting for my | says delivered | marked as delivered | delivered but | where is the parcel
            | where is the package | parcel | package hasn*t | haven*t received | havent received | not delivered
            | {_order_questions("en")}""",
        "legal": """lawyer | attorney | solicitor | legal action | sue | suing | court | small claims
            | consumer protection | consumer rights | trading standards | ombudsman | report you | chargeback
            | police | fraud complaint""",
        "safety": """burn* | fire | smok* | spark* | explod* | caught fire | electric shock | shocked me | injur*
            | hurt | bleeding | cut myself | swallow* | chok* | allergic | rash | poison* | toxic | dangerous
            | unsafe | is it safe | hospital | melted | overheat*""",
        "payment_account": """charged twice | double charged | charged me twice | unauthori?ed | didn*t make
            | didnt make | did not make | not mine | stolen card | card was stolen | card stolen | hacked
            | someone logged | logged into my account | account was | fraud* | scam* | unknown charge
            | charge i don*t recognise | don*t recognize | payment i didn*t | password changed | phishing""",
        "not_helpful": """didn*t help | didnt help | did not help | doesn*t help | doesnt help | not help*
            | no help | useless | doesn*t answer | doesnt answer | didn*t answer | not what i asked
            | not my question | wrong answer | makes no sense | you don*t understand | not helpful
            | still not solved | didn*t work | didnt work | doesn*t work | not solved""",
        "yes": "yes | yeah | yep | yup | yes please | sure | correct | that*s right | indeed | ok that worked"
               " | that solved | solved | it worked | worked",
        "no": "no | nope | nah | not really | no thanks | not yet",
        "thanks": "thank* | thx | thnx | cheers | much appreciated | appreciate it | many thanks",
        "negative": f"""broken | broke | damaged | crushed | faulty | defective | doesn*t work | stopped working
            | still haven*t | still hasn*t | still havent | not as described | waste of money | too long | takes so long
            | wrong | missing | never again | worst | terrible | awful | horrible | disgusting | ridiculous
            | unacceptable | disappointed | disappointing | angry | annoyed | annoying | furious | fed up
            | sick of | tired of | waste | rubbish | useless | scam* | joke | shame | nobody answers
            | no one answers | nobody replies | no response | still waiting | still not | {AGAIN["en"]} | third time
            | second time | complain* | refund now | poor | bad | sucks | hate | upset | stain* | torn | ripped
            | delivered but | nothing
            | incompetent | useless lot""",
        "positive": """thank* | thx | cheers | great | love | loved | lovely | amazing | awesome | excellent
            | perfect | fantastic | wonderful | happy | pleased | glad | best | brilliant | helpful | quick help
            | well done | nice | super | sorted | solved | appreciate* | 😍 | ❤ | 🙏 | 👍 | 😊 | 🥰""",
        "anger": """angry | furious | ridiculous | unacceptable | disgusting | outrageous | scam* | joke | shame
            | pathetic | useless | worst | now!! | wtf | 😡 | 🤬 | 😠""",
        "frustration": f"""still | {AGAIN["en"]} | third time | second time | fed up | sick of | tired of | annoyed
            | annoying | waiting for | nobody | no one | frustrat* | disappointed | 😤 | 😩 | 😞""",
        "deadline": """today | tonight | tomorrow | by friday | by monday | by tuesday | by wednesday
            | by thursday | by saturday | by sunday | this afternoon | this evening | this morning
            | in time | before it ships | before it leaves | wedding | birthday | flight | leaving tomorrow
            | in an hour | in two hours | within hours | by noon | deadline""",
        "urgent": "urgent* | asap | emergency | immediately | right now | straight away | as soon as possible",
        "damage": """broken | broke | damaged | crushed | cracked | shattered | smashed | dented | torn | ripped
            | faulty | defective | doesn*t work | stopped working | not working | leak* | scratched
            | stained | wrong item | in pieces""",
    },
    "es": {
        "human": _human_requests("es"),
        "order_status": f"""donde esta mi | donde esta el pedido | mi pedido | estado del pedido | seguimiento
            | no ha llegado | no llego | no me llego | no me ha llegado | sigue sin llegar | no recibi
            | cuando llega | cuando llegara | llegara a tiempo | han enviado | ya salio | entregado pero
            | pone entregado | no he recibido
            | {_order_questions("es")}""",
        "legal": """abogado | denunci* | demand* | juzgado | tribunal | consumo | omic | oficina del consumidor
            | reclamacion oficial | hoja de reclamaciones | policia | acciones legales""",
        "safety": """quem* | fuego | incendi* | humo | chispa* | explot* | descarga | electrocut* | herid*
            | sangr* | trag* | atragant* | alergi* | toxic* | venen* | peligros* | hospital | derriti*""",
        "payment_account": """cobrado dos veces | cobrasteis dos veces | doble cobro | dos cargos | cargo que no
            | compras que no | no son mias | no reconozco | me robaron la tarjeta | tarjeta robada | robo
            | hackea* | entrado en mi cuenta | entro en mi cuenta | fraude | estafa | suplantacion""",
        "not_helpful": """no me ayuda | no ayuda | no me sirve | no sirve | no me ha servido | no contesta
            | no responde a | no es lo que pregunte | no es lo que he preguntado | no entiendes | no tiene sentido
            | sigue sin solucion | no funciona | no me ha ayudado | no ha servido""",
        "yes": "si | sip | claro | vale | correcto | exacto | de acuerdo | ya esta resuelto | resuelto | funciono"
               " | ya funciona",
        "no": "no | nop | para nada | todavia no | aun no",
        "thanks": "gracias | grasias | muchas gracias | mil gracias | te lo agradezco | agradecid*",
        "negative": f"""roto | rota | rotos | dañad* | danad* | aplastad* | defectuos* | no funciona | equivocad*
            | rabia | que rabia | no es como en la foto | no coincide | tarda demasiado | dinero tirado
            | falta | nunca mas | peor | fatal | horrible | terrible | verguenza | ridicul* | inaceptable
            | decepcionad* | enfadad* | enojad* | molest* | harto | harta | cansad* | basura | estafa* | timo
            | nadie contesta | nadie responde | sin respuesta | sigo esperando | sigue sin | {AGAIN["es"]}
            | tercera vez | segunda vez | queja | reclamo | mal | mala | pesimo | pesima | entregado pero | nada
            | incompetentes | inutiles""",
        "positive": """gracias | genial | me encanta | encantad* | increible | excelente | perfecto | perfecta
            | fantastic* | maravillos* | content* | feliz | el mejor | los mejores | buenisim* | muy buen*
            | rapido | estupend* | resuelto | solucionado | guay | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """verguenza | ridicul* | inaceptable | indignant* | estafa* | timo | cabread* | furios*
            | enfadad* | enojad* | vergonzos* | 😡 | 🤬 | 😠""",
        "frustration": f"""{AGAIN["es"]} | sigo esperando | sigue sin | harto | harta | cansad* | tercera vez
            | segunda vez | nadie | decepcionad* | frustrad* | 😤 | 😩 | 😞""",
        "deadline": """hoy | esta noche | mañana | manana
            | para el (lunes|martes|miercoles|jueves|viernes|sabado|domingo)
            | antes del? (lunes|martes|miercoles|jueves|viernes|sabado|domingo) | a tiempo | antes de que salga
            | boda | cumpleaños | cumpleanos | viaje | vuelo | me voy de viaje | esta tarde | hoy mismo""",
        "urgent": "urgente | urgencia | cuanto antes | ya mismo | inmediatamente | lo antes posible | emergencia",
        "damage": """roto | rota | rotos | rotas | dañad* | danad* | aplastad* | defectuos* | no funciona | rajad*
            | agrietad* | abollad* | rasgad* | manchad* | articulo equivocado | producto equivocado
            | en pedazos""",
    },
    "pt": {
        "human": _human_requests("pt"),
        "order_status": f"""cade meu | cade o meu | onde esta meu | onde esta o meu | onde ta | meu pedido
            | minha encomenda | status do pedido | rastreio | rastreamento | nao chegou | ainda nao chegou
            | nao recebi | quando chega | vai chegar | chegar a tempo | ja foi enviado | foi enviado
            | diz entregue | consta entregue | entregue mas
            | {_order_questions("pt")}""",
        "legal": """advogad* | justica | processo | processar | tribunal | procon | reclame aqui
            | consumidor gov | defesa do consumidor | policia | juizado""",
        "safety": """queim* | fogo | incendi* | fumaca | faisca* | explod* | choque | eletrocut* | ferid*
            | sangr* | engoli* | engasg* | alergi* | toxic* | venen* | perigos* | hospital | derret*""",
        "payment_account": """cobrado duas vezes | cobrada duas vezes | cobranca duplicada | duas cobrancas
            | cobranca que | compra que nao | compras que eu nao | nao reconheco | roubaram meu cartao
            | cartao roubado | clonad* | invadi* minha conta | hacke* | fraude | golpe""",
        "not_helpful": """nao ajudou | nao ajuda | nao serve | nao resolveu | nao responde | nao respondeu
            | nao foi isso | nao e isso | nao entendeu | nao faz sentido | nao funcionou | nao adiantou""",
        "yes": "sim | s | isso | claro | certo | correto | exato | pode ser | resolveu | resolvido | funcionou",
        "no": "nao | n | nada disso | ainda nao | negativo",
        "thanks": "obrigad* | obg | brigad* | valeu | vlw | agradeco | muito obrigad*",
        "negative": f"""quebrad* | danificad* | amassad* | defeito | defeituos* | nao funciona | errad* | faltando
            | desilud* | diferente da foto | nao e como | demora demais | dinheiro jogado fora
            | nunca mais | pior | pessim* | horrivel | terrivel | absurdo | vergonha | ridicul* | inaceitavel
            | decepcionad* | irritad* | raiva | chatead* | cansad* | cansei | lixo | golpe | ninguem responde
            | sem resposta | continuo esperando | {AGAIN["pt"]} | terceira vez | segunda vez
            | reclamacao | ruim | mal | entregue mas | nada
            | incompetentes | inuteis""",
        "positive": """obrigad* | valeu | otimo | otima | amei | adorei | amo | lindo | linda | incrivel
            | excelente | perfeito | perfeita | maravilhos* | feliz | satisfeit* | o melhor | os melhores
            | top | show | rapido | resolvido | ajudou demais | demais | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """absurdo | vergonha | ridicul* | inaceitavel | raiva | palhacada | golpe | revoltad*
            | furios* | 😡 | 🤬 | 😠""",
        "frustration": f"""{AGAIN["pt"]} | continuo esperando | ainda nao | cansad* | cansei | terceira vez
            | segunda vez | ninguem | decepcionad* | frustrad* | chatead* | 😤 | 😩 | 😞""",
        "deadline": """hoje | hoje a noite | amanha | ate (segunda|terca|quarta|quinta|sexta|sabado|domingo)
            | a tempo | antes do envio | casamento | aniversario | viagem | viajo | voo | esta tarde
            | hoje mesmo""",
        "urgent": "urgente | urgencia | o quanto antes | agora | imediatamente | emergencia | socorro",
        "damage": """quebrad* | quebrou | danificad* | amassad* | defeito | defeituos* | nao funciona | rachad*
            | trincad* | rasgad* | manchad* | produto errado | artigo errado | item errado""",
    },
    "de": {
        "human": _human_requests("de"),
        "order_status": f"""wo bleibt | wo ist meine | wo ist mein | bestellstatus | status meiner | sendungsverfolgung
            | tracking | nicht angekommen | noch nicht da | immer noch nicht da | nicht erhalten | nie erhalten
            | wann kommt | wann kommt mein | rechtzeitig | schon verschickt | versandt | zugestellt aber
            | als zugestellt | laut tracking | meine bestellung | mein paket
            | {_order_questions("de")}""",
        "legal": """anwalt | anwaltin | rechtsanwalt | klage | klagen | gericht | verbraucherzentrale
            | verbraucherschutz | rechtliche schritte | polizei | anzeige | mahnverfahren""",
        "safety": """verbrann* | brand | feuer | qualm* | rauch* | funk* | explod* | stromschlag | verletz*
            | blut* | verschluck* | erstick* | allergi* | ausschlag | giftig | gift | gefahrlich | gefahr
            | krankenhaus | geschmolzen | uberhitz*""",
        "payment_account": """doppelt abgebucht | zweimal abgebucht | doppelt belastet | zweimal belastet
            | nicht von mir | nicht autorisiert | unbekannte abbuchung | kreditkarte wurde gestohlen
            | karte gestohlen | gestohlen | gehackt | eingeloggt | konto .. ubernommen | betrug | phishing""",
        "not_helpful": """hilft nicht | hilft mir nicht | hat nicht geholfen | hilft .. nicht | bringt nichts
            | beantwortet .. nicht | nicht meine frage | war nicht meine frage | ergibt keinen sinn | nutzlos
            | funktioniert nicht | nicht gelost""",
        "yes": "ja | jawohl | jep | genau | richtig | stimmt | gerne | ok hat geklappt | hat geklappt | erledigt"
               " | gelost | passt",
        "no": "nein | ne | nee | noch nicht | leider nicht | nicht wirklich",
        "thanks": "danke* | dank | vielen dank | besten dank | merci | dankeschon",
        "negative": f"""kaputt | beschadigt | eingedruckt | defekt | funktioniert nicht | falsch* | fehlt
            | dauert .. lange | zu lange | schade | geldverschwendung | nicht wie beschrieben
            | nie wieder | schlecht* | schlimm* | furchtbar | schrecklich | katastroph* | frechheit
            | unverschamt* | lacherlich | inakzeptabel | enttauscht | enttauschend | verargert | wutend
            | sauer | genervt | nervig | nase voll | reicht | betrug | abzocke | keiner antwortet
            | niemand antwortet | keine antwort | warte immer noch | immer noch | {AGAIN["de"]}
            | zum dritten mal | zum zweiten mal | beschwerde | mangelhaft | zugestellt aber | nichts
            | saftladen | stinksauer | null antwort | unfahig | inkompetent""",
        "positive": """danke* | toll | super | klasse | spitze | liebe | traumhaft | wunderbar | wunderschon
            | perfekt | ausgezeichnet | hervorragend | grossartig | fantastisch | zufrieden | glucklich
            | freue | schnell | hilfreich | geholfen | top | erledigt | gelost | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """frechheit | unverschamt* | lacherlich | inakzeptabel | wutend | sauer | abzocke | betrug
            | skandal* | sofort | 😡 | 🤬 | 😠""",
        "frustration": f"""immer noch | {AGAIN["de"]} | nase voll | genervt | nervig | zum dritten mal
            | zum zweiten mal | keiner | niemand | enttauscht | frustriert | warte seit | 😤 | 😩 | 😞""",
        "deadline": """heute | heute abend | morgen | bis (montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)
            | rechtzeitig | bevor sie rausgeht | bevor es verschickt | hochzeit | geburtstag | flug | fliege
            | reise | heute noch | in einer stunde""",
        "urgent": "dringend* | eilig | eilt | sofort | umgehend | notfall | schnellstmoglich | asap",
        "damage": """kaputt | beschadigt | eingedruckt | defekt | funktioniert nicht | zerbrochen | gebrochen
            | gerissen | zerkratzt | undicht | falscher artikel | falsche artikel | in stucken""",
    },
    "tr": {
        "human": _human_requests("tr"),
        "order_status": f"""siparisim nerede | siparis* nerede | kargom nerede | kargo* nerede | paket* nerede
            | siparis durum* | kargo takib* | takip | gelmedi | hala gelmedi | ulasmadi | teslim almadim
            | ne zaman gelir | ne zaman gelecek | zamaninda gelir | kargoya verildi | gonderildi mi
            | teslim edildi yaziyor | teslim edildi gorunuyor
            | {_order_questions("tr")}""",
        "legal": """avukat* | dava* | mahkeme* | tuketici hakem* | tuketici hak* | savcilik | polis* | sikayet*
            | cimer | yasal""",
        "safety": """yand* | yanik | ates | alev* | duman | kivilcim | patla* | elektrik carp* | carpti | yaralan*
            | kan | yuttu | yutmus | bogul* | alerji* | zehir* | tehlikeli | hastane* | eridi""",
        "payment_account": """iki kez | iki defa | cift cekim | ucret cekildi | yapmadigim | benim degil
            | tanimadigim | kartim calindi | calinti | hesabima gir* | hesabim .. ele geciril* | hackl*
            | dolandiric* | sahtekar*""",
        "not_helpful": """ise yaramadi | ise yaramiyor | isime yaramadi | yardimci olmadi | yardimci olmuyor
            | cevap vermiyor | cevap vermedi | sordugum bu degil | anlamadiniz | anlamiyorsunuz | cozulmedi
            | faydasi yok | olmadi""",
        "yes": "evet | he | tabii | tabi | aynen | dogru | olur | tamamdir | cozuldu | sorun cozuldu | oldu",
        "no": "hayir | yok | yoo | olmaz | henuz degil",
        "thanks": "tesekkur* | sagol* | sag ol* | eyvallah | eline saglik | cok sagolun",
        "negative": f"""kirik | kirilmis | hasarli | ezilmis | bozuk | calismiyor | yanlis | eksik | bir daha asla
            | hos degil | aciklamaya uymuyor | cok uzun surdu | yazik | paramiza yazik
            | asla | en kotu | kotu | berbat | rezalet | rezil | sacma | kabul edilemez | hayal kirikligi
            | sinir* | kizgin | bikti* | biktim | yoruldum | dolandiric* | kimse cevap vermiyor
            | cevap yok | hala bekliyorum | hala | {AGAIN["tr"]} | ucuncu kez | ikinci kez | sikayet*
            | memnun degilim | hicbir sey
            | beceriksiz* | ilgilenmiyor""",
        "positive": """tesekkur* | sagol* | harika | bayildim | super | mukemmel | muhtesem | guzel | cok iyi
            | memnun* | mutlu | en iyi | hizli | cozuldu | yardimci oldunuz | harikasiniz | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """rezalet | rezil | sacma | kabul edilemez | kizgin | sinirliyim | dolandiric* | yaziklar
            | hemen | 😡 | 🤬 | 😠""",
        "frustration": f"""hala | {AGAIN["tr"]} | bikti* | biktim | yoruldum | ucuncu kez | ikinci kez | kimse
            | hayal kirikligi | sinir bozucu | 😤 | 😩 | 😞""",
        "deadline": """bugun | bu aksam | yarin | (pazartesi|sali|carsamba|persembe|cuma|cumartesi|pazar) kadar
            | (pazartesi|sali|carsamba|persembe|cuma|cumartesi|pazar) gunune kadar
            | zamaninda | kargoya verilmeden | dugun | dogum gunu | ucak* | ucus | seyahat | bu ogleden sonra""",
        "urgent": "acil* | hemen | derhal | bir an once | en kisa surede | acele",
        "damage": """kirik | kirilmis | kirildi | hasarli | ezilmis | ezik | bozuk | bozuldu | calismiyor | catlak
            | yirtik | lekeli | yanlis urun""",
    },
    "id": {
        "human": _human_requests("id"),
        "order_status": f"""pesanan saya | pesananku | paket saya | paketku | sudah sampai mana | sampai mana
            | dimana pesanan | di mana pesanan | status pesanan | resi | lacak | tracking | belum datang
            | belum sampai | belum diterima | belum nyampe | kapan sampai | kapan datang | kapan dikirim
            | sudah dikirim | udah dikirim | keburu | terkirim tapi | diterima tapi
            | {_order_questions("id")}""",
        "legal": """pengacara | kuasa hukum | hukum | gugat* | pengadilan | ylki | perlindungan konsumen
            | bpsk | lapor polisi | polisi | somasi""",
        "safety": """terbakar | luka bakar | kebakaran | api | asap | percikan | meledak | kesetrum | tersetrum
            | luka | berdarah | tertelan | menelan | tersedak | alergi | gatal | beracun | racun | berbahaya
            | bahaya | rumah sakit | meleleh""",
        "payment_account": """dua kali | terpotong dua | tagihan ganda | bukan saya | tanpa sepengetahuan
            | tidak saya kenal | kartu .. dicuri | dicuri | dibobol | masuk ke akun | diretas | hack* | penipuan
            | tipu""",
        "not_helpful": """tidak membantu | nggak membantu | gak membantu | ga membantu | tidak menjawab
            | nggak dijawab | gak dijawab | tidak dijawab | nggak nyambung | gak nyambung | bukan itu
            | tidak paham | belum terjawab | belum beres | tidak berhasil | gak berhasil""",
        "yes": "ya | iya | iyaa | yup | betul | benar | bener | oke sudah | sudah beres | beres | berhasil | bisa",
        "no": "tidak | nggak | gak | ga | enggak | engga | belum | bukan",
        "thanks": "terima kasih | terimakasih | makasih | makasi | trims | thx | thanks | tq | nuhun",
        "negative": f"""rusak | penyok | pecah | cacat | tidak berfungsi | salah | kurang | kapok | terburuk
            | tidak sesuai | gak sesuai | nggak sesuai | ga sesuai | lama banget | sayang uang
            | buruk | jelek | parah | kecewa | marah | kesal | kesel | nyebelin | sebel | capek | cape | bosan
            | penipu* | tidak ada yang balas | gak ada yang balas | nggak ada yang balas | masih nunggu
            | masih menunggu | {AGAIN["id"]} | ketiga kalinya | kedua kalinya | komplain | keluhan | terkirim tapi
            | gak becus | tidak becus | lelet""",
        "positive": """terima kasih | makasih | mantap | mantul | keren | bagus | suka banget | suka | cakep
            | cantik | luar biasa | sempurna | puas | senang | terbaik | the best | cepat | membantu
            | sangat membantu | beres | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """parah | marah | penipu* | keterlaluan | tidak becus | gak becus | sekarang | 😡 | 🤬 | 😠""",
        "frustration": f"""masih | {AGAIN["id"]} | capek | cape | kesal | kesel | nyebelin | kecewa | ketiga kalinya
            | kedua kalinya | tidak ada yang | gak ada yang | 😤 | 😩 | 😞""",
        "deadline": """hari ini | nanti malam | malam ini | besok | sebelum (senin|selasa|rabu|kamis|jumat|sabtu|minggu)
            | sebelum hari (senin|selasa|rabu|kamis|jumat|sabtu|minggu)
            | keburu | tepat waktu | sebelum dikirim | kondangan | nikahan | pernikahan | ulang tahun
            | berangkat | penerbangan | pesawat | sore ini""",
        "urgent": "penting | urgent | darurat | segera | secepatnya | sekarang juga | tolong cepat",
        "damage": """rusak | penyok | pecah | retak | cacat | sobek | robek | tidak berfungsi | gak berfungsi
            | nggak berfungsi | barang salah | salah kirim""",
    },
    "sk": {
        "human": _human_requests("sk"),
        "order_status": f"""kde je moja | kde je moj | kde je objednavka | stav objednavky | sledovanie | tracking
            | neprisla | neprisiel | este neprisl* | nedostal* | kedy pride | kedy prid* | pridu vcas
            | pride vcas | odoslan* | bola .. odoslana | doruc* ale | pise dorucen* | moja objednavka
            | moj balik
            | {_order_questions("sk")}""",
        "legal": """pravnik* | advokat* | sud | sudom | zaloba | zalobu | obchodn* inspekci* | soi
            | ochrana spotrebitel* | policia | policiu | trestne oznamenie""",
        "safety": """popal* | horel* | hori | ohen | dym* | iskr* | vybuch* | explod* | prud | zranen* | krv*
            | prehltol | prehltla | prehltn* | dusi* | alergi* | vyraz* | jedovat* | nebezpecn* | nemocnic*
            | roztopil*""",
        "payment_account": """dvakrat | dva krat | dvojita platba | strhli | nie su moje | ktoru som nerobil
            | som nerobil* | neautorizovan* | ukradli | ukradnut* | kradez | hacknut* | prihlasil do
            | prihlasil sa do | podvod* | phishing""",
        "not_helpful": """nepomohl* | nepomaha | k nicomu | neodpoveda | neodpovedali
            | na to som sa nepytal | na to som sa nepytala | nerozumiete | nedava zmysel | nefunguje
            | nevyriesen*""",
        "yes": "ano | hej | jasne | presne | spravne | suhlasim | vyriesene | funguje | uz je to vyriesene",
        "no": "nie | ne | este nie | vobec nie",
        "thanks": "dakujem* | dakujeme | vdaka | dik | diky | dakujem pekne | velka vdaka",
        "negative": f"""rozbit* | poskoden* | stlacen* | pokazen* | nefunguje | zl* | chyba | nikdy viac | uz nikdy
            | skoda | skoda penazi | nezodpoveda | trva .. dlho | prilis dlho
            | najhors* | hrozn* | strasn* | otrasn* | hanba | smiesn* | neprijateln* | sklaman* | nahneval*
            | nastvan* | otravne | nebavi | unaven* | podvod* | nikto neodpoveda | ziadna odpoved
            | stale cakam | stale | {AGAIN["sk"]} | tretikrat | druhykrat | reklamaci* | staznost
            | neschopn* | nikto nic | nic nerobi""",
        "positive": """dakujem* | vdaka | super | skvel* | uzasn* | nadhern* | perfektn* | vyborn* | krasn*
            | spokojn* | stastn* | najlepsi | rychl* | pomohli | vyriesene | top | 😍 | ❤ | 🙏 | 👍 | 😊""",
        "anger": """hanba | smiesn* | neprijateln* | nahneval* | nastvan* | podvod* | okamzite | 😡 | 🤬 | 😠""",
        "frustration": f"""stale | {AGAIN["sk"]} | tretikrat | druhykrat | nebavi | unaven* | nikto
            | sklaman* | otravne | 😤 | 😩 | 😞""",
        "deadline": """dnes | dnes vecer | na vecer | zajtra | do (pondelka|utorka|stredy|stvrtka|piatku|soboty|nedele)
            | vcas | kym sa neodosle | svadb* | narodenin* | odlietam | let | dovolenk* | cesta""",
        "urgent": "urgent* | naliehav* | sÚrne | surne | okamzite | co najskor | hned | nudzov*",
        "damage": """rozbit* | poskoden* | stlacen* | pokazen* | pokazil* | nefunguje | prasknut* | roztrhnut*
            | zly tovar | nespravny tovar""",
    },
}


def fold(text: str) -> str:
    """Lower case without accents (``Ďakujem`` -> ``dakujem``, ``İYİ`` -> ``iyi``, ``Straße`` -> ``strasse``)."""
    text = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i").replace("ß", "ss")
    text = text.replace("’", "'").replace("'", "")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _pattern(cue: str) -> str:
    body, started = "", False              # started: a word is written, so the next one follows a separator
    for word in cue.split():
        if word in ("..", "."):
            body += r"(?:\W+\w+){0,3}" if word == ".." else r"(?:\W+\w+)?"
            continue
        if word == "$":                    # the clause ends here: punctuation or the end of the message follows
            body += r"(?=\s*(?:[^\w\s]|$))"
            continue
        if word.startswith("(") and word.endswith(")?"):      # an optional word: "(a|an)?" is a, an or nothing
            group = _escape(word[:-1])
            body += rf"(?:\W+{group})?" if started else rf"(?:{group}\W+)?"
            continue
        separator = r"\W+" if started else ""
        started = True
        if word in ("<n>", "#<n>"):
            body += separator + ("#" if word == "#<n>" else "") + r"\d{3,12}(?!\w)"
            continue
        star = word.endswith("*") and len(word) > 1
        core = _escape(word[:-1] if star else word) + (r"\w*" if star else "")
        body += separator + core
    left = r"(?<!\w)" if cue[:1].isalnum() or cue[:1] == "(" else ""
    right = r"(?!\w)" if cue.rstrip("*")[-1:].isalnum() or cue.endswith(("*", ")", "?")) else ""
    return left + body + right


def _escape(word: str) -> str:
    """Regex-escape a cue word, keeping the small regex vocabulary the lists use: (a|b), ?, *."""
    if any(c in word for c in "()|?"):
        return fold(word)
    return re.escape(fold(word))


@cache
def compiled(language: str, category: str) -> re.Pattern[str] | None:
    raw = CUES.get(language, {}).get(category)
    if not raw:
        return None
    cues = [c.strip() for c in raw.split("|") if c.strip()] if "(" not in raw else _split(raw)
    alternatives = "|".join(_pattern(c) for c in cues)
    if category == "human":
        alternatives += "|" + _human_alone(language)
    if category in ANCHORED:
        # a reply word opens the message and stands apart (a comma, a full stop, the end) or the reply is short:
        # "si, ya está" and "yeah that solved it" answer; "si pagué por transferencia..." ("if I paid") does not
        return re.compile(rf"^\W*(?:{alternatives})(?:(?=\s*(?:[^\w\s]|$))|(?=(?:\W+\w+){{0,3}}\W*$))",
                          re.UNICODE)
    return re.compile(f"(?:{alternatives})", re.UNICODE)


def _split(raw: str) -> list[str]:
    """Split on the top-level ``|`` only (a cue may hold a group such as ``(monday|friday)``)."""
    parts, depth, current = [], 0, ""
    for char in raw:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [" ".join(p.split()) for p in parts if p.strip()]


def matches(folded: str, language: str, category: str) -> list[str]:
    """The cues of ``category`` found in an already folded text, in ``language``."""
    pattern = compiled(language, category)
    if pattern is None:
        return []
    return [m.group(0) for m in pattern.finditer(folded)]


def found(folded: str, languages: Iterable[str], categories: Iterable[str] = CATEGORIES) -> dict[str, list[str]]:
    """Category -> cues found in any of ``languages`` (the message's language first, then the others)."""
    result: dict[str, list[str]] = {}
    for category in categories:
        hits = [hit for language in languages for hit in matches(folded, language, category)]
        if hits:
            result[category] = hits
    return result


def asks_order_status(folded: str, languages: Iterable[str]) -> bool:
    """Whether an already folded text asks where an order is or what its state is: an ``order_status`` cue other than
    a mere mention of the customer's order (``ORDER_MENTIONS``: "¿Puedo cancelar mi pedido?" asks to cancel)."""
    hits = found(folded, languages, ("order_status",)).get("order_status", [])
    return any(" ".join(re.findall(r"\w+", hit)) not in ORDER_MENTIONS for hit in hits)


def languages_with(folded: str, categories: Iterable[str] = ("thanks", "yes", "no", "human", "order_status"),
                   table: Mapping[str, Mapping[str, str]] = CUES) -> list[str]:
    """The languages whose cues of ``categories`` cover the whole of a short text (one- and two-word replies
    such as ``evet``, ``iya``, ``tesekkurler``): the prior the language detector uses when fastText is unsure."""
    words = re.findall(r"\w+", folded)
    if not words or len(words) > 3:
        return []
    text = " ".join(words)
    chosen = []
    for language in table:
        for category in categories:
            pattern = compiled(language, category)
            if pattern is not None and any(m.start() == 0 and m.end() >= len(text) for m in pattern.finditer(text)):
                chosen.append(language)
                break
    return chosen
