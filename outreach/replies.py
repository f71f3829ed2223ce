"""The system's own replies (welcome, goodbye, help, onboarding …) in every language we ship.

An organization may reword any of them per language (SystemReply); otherwise the
wording here is used. A language with no wording falls back to the organization's
default language, then to English. The welcome text is the consent text a
subscriber agrees to: its version is recorded with every keyword opt-in.
"""

from collections.abc import Mapping

CONSENT_TEXT_VERSION = "2026-11-v1"

REPLY_KEYS = (
    "welcome",
    "ask_age",
    "ask_region",
    "onboarding_done",
    "under_age",
    "goodbye",
    "help",
    "not_understood",
    "already_subscribed",
    "not_subscribed",
    "language_changed",
    "language_unknown",
    "goodbye_everywhere",
    "link_code",
    "linked",
    "link_failed",
)

DEFAULT_REPLIES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "welcome": "Welcome to {organization} peace messages! A few messages a week, free to "
        "reply. Reply HELP for help, STOP to stop.",
        "ask_age": "How old are you? Reply with your age (e.g. 21), or SKIP.",
        "ask_region": "Which county do you live in? Reply with its name{menu}, or SKIP.",
        "onboarding_done": "Thank you! You will get messages of peace from {organization}. "
        "Reply STOP at any time to stop.",
        "under_age": "Thank you for your interest! These messages are for people aged "
        "{minimum_age} and over, so we have deleted your number. Keep choosing peace.",
        # START, not JOIN: Twilio's own opt-out lifts only on START, YES or UNSTOP.
        "goodbye": "You will get no more messages from {organization}. Reply START to come "
        "back at any time.",
        "help": "{organization} sends messages of peace around the election. Reply STOP to stop, "
        "LANG {language_codes} to change language.",
        "not_understood": "Sorry, we did not understand. Reply HELP for help or STOP to stop.",
        "already_subscribed": "You are already subscribed to {organization}. Reply HELP for help "
        "or STOP to stop.",
        "not_subscribed": "Hello! Reply JOIN to get messages of peace from {organization}, or "
        "HELP for help.",
        "language_changed": "We will write to you in English from now on.",
        "language_unknown": "Reply LANG followed by one of: {language_codes}.",
        "goodbye_everywhere": "You will get no more messages from {organization} on any app "
        "or number. Reply START on one to come back there.",
        "link_code": "Your code is {code}. To get our messages on another app too, send LINK "
        "{code} there within 15 minutes.",
        "linked": "Done: we now know this is you on both. Reply STOP here to stop here only, "
        "STOPALL to stop everywhere.",
        "link_failed": "That code did not work (wrong or more than 15 minutes old). Send LINK "
        "on your other app for a new one.",
    },
    "sw": {
        "welcome": "Karibu kwenye jumbe za amani za {organization}! Jumbe chache kwa wiki, "
        "kujibu ni bure. Jibu MSAADA kwa msaada, ACHA kusitisha.",
        "ask_age": "Una umri gani? Jibu kwa umri wako (mfano 21), au RUKA.",
        "ask_region": "Unaishi kaunti gani? Jibu kwa jina lake{menu}, au RUKA.",
        "onboarding_done": "Asante! Utapokea jumbe za amani kutoka {organization}. Jibu ACHA "
        "wakati wowote kusitisha.",
        "under_age": "Asante kwa nia yako! Jumbe hizi ni za watu wenye umri wa miaka "
        "{minimum_age} na zaidi, kwa hivyo tumefuta nambari yako. Endelea kuchagua amani.",
        "goodbye": "Hutapokea jumbe zaidi kutoka {organization}. Jibu START kurudi wakati wowote.",
        "help": "{organization} hutuma jumbe za amani wakati wa uchaguzi. Jibu ACHA kusitisha, "
        "LUGHA {language_codes} kubadilisha lugha.",
        "not_understood": "Samahani, hatukuelewa. Jibu MSAADA kwa msaada au ACHA kusitisha.",
        "already_subscribed": "Tayari umejiunga na {organization}. Jibu MSAADA kwa msaada au "
        "ACHA kusitisha.",
        "not_subscribed": "Habari! Jibu JIUNGE kupokea jumbe za amani kutoka {organization}, au "
        "MSAADA kwa msaada.",
        "language_changed": "Tutakuandikia kwa Kiswahili kuanzia sasa.",
        "language_unknown": "Jibu LUGHA ikifuatiwa na mojawapo ya: {language_codes}.",
        "goodbye_everywhere": "Hutapokea jumbe zaidi kutoka {organization} kwenye programu "
        "wala nambari yoyote. Jibu START kwenye mojawapo kurudi huko.",
        "link_code": "Nambari yako ni {code}. Kupokea jumbe zetu kwenye programu nyingine pia, "
        "tuma UNGANISHA {code} huko ndani ya dakika 15.",
        "linked": "Imekamilika: sasa tunajua ni wewe kwenye zote mbili. Jibu ACHA hapa "
        "kusitisha hapa tu, STOPALL kusitisha kila mahali.",
        "link_failed": "Nambari hiyo haikufanya kazi (si sahihi au imepita dakika 15). Tuma "
        "UNGANISHA kwenye programu yako nyingine upate mpya.",
    },
    "fr": {
        "welcome": "Bienvenue aux messages de paix de {organization} ! Quelques messages par "
        "semaine, réponse gratuite. Répondez AIDE pour l'aide, STOP pour arrêter.",
        "ask_age": "Quel âge avez-vous ? Répondez avec votre âge (ex. 21), ou PASSER.",
        "ask_region": "Dans quelle région vivez-vous ? Répondez avec son nom{menu}, ou PASSER.",
        "onboarding_done": "Merci ! Vous recevrez des messages de paix de {organization}. "
        "Répondez STOP à tout moment pour arrêter.",
        "under_age": "Merci de votre intérêt ! Ces messages sont pour les personnes de "
        "{minimum_age} ans et plus, nous avons donc effacé votre numéro. Choisissez la paix.",
        "goodbye": "Vous ne recevrez plus de messages de {organization}. Répondez START pour "
        "revenir à tout moment.",
        "help": "{organization} envoie des messages de paix autour de l'élection. Répondez STOP "
        "pour arrêter, LANGUE {language_codes} pour changer de langue.",
        "not_understood": "Désolé, nous n'avons pas compris. Répondez AIDE pour l'aide ou STOP "
        "pour arrêter.",
        "already_subscribed": "Vous êtes déjà inscrit à {organization}. Répondez AIDE pour "
        "l'aide ou STOP pour arrêter.",
        "not_subscribed": "Bonjour ! Répondez PAIX pour recevoir les messages de paix de "
        "{organization}, ou AIDE pour l'aide.",
        "language_changed": "Nous vous écrirons en français désormais.",
        "language_unknown": "Répondez LANGUE suivi de : {language_codes}.",
        "goodbye_everywhere": "Vous ne recevrez plus de messages de {organization} sur "
        "aucune application ni aucun numéro. Répondez START sur l'un d'eux pour y revenir.",
        "link_code": "Votre code est {code}. Pour recevoir nos messages sur une autre "
        "application aussi, envoyez-y LIER {code} dans les 15 minutes.",
        "linked": "C'est fait : nous savons que c'est vous sur les deux. Répondez STOP ici "
        "pour arrêter ici seulement, STOPALL pour arrêter partout.",
        "link_failed": "Ce code n'a pas marché (faux ou de plus de 15 minutes). Envoyez LIER "
        "sur votre autre application pour en avoir un nouveau.",
    },
    "es": {
        "welcome": "¡Bienvenido a los mensajes de paz de {organization}! Pocos mensajes por "
        "semana, responder es gratis. Responde AYUDA para ayuda, STOP para salir.",
        "ask_age": "¿Cuántos años tienes? Responde con tu edad (ej. 21), o SALTAR.",
        "ask_region": "¿En qué región vives? Responde con su nombre{menu}, o SALTAR.",
        "onboarding_done": "¡Gracias! Recibirás mensajes de paz de {organization}. Responde "
        "STOP en cualquier momento para salir.",
        "under_age": "¡Gracias por tu interés! Estos mensajes son para personas de "
        "{minimum_age} años o más, así que hemos borrado tu número. Sigue eligiendo la paz.",
        "goodbye": "No recibirás más mensajes de {organization}. Responde START para volver "
        "cuando quieras.",
        "help": "{organization} envía mensajes de paz durante la elección. Responde STOP para "
        "salir, IDIOMA {language_codes} para cambiar de idioma.",
        "not_understood": "Lo sentimos, no entendimos. Responde AYUDA para ayuda o STOP para "
        "salir.",
        "already_subscribed": "Ya estás suscrito a {organization}. Responde AYUDA para ayuda o "
        "STOP para salir.",
        "not_subscribed": "¡Hola! Responde PAZ para recibir mensajes de paz de {organization}, "
        "o AYUDA para ayuda.",
        "language_changed": "Te escribiremos en español a partir de ahora.",
        "language_unknown": "Responde IDIOMA seguido de: {language_codes}.",
        "goodbye_everywhere": "No recibirás más mensajes de {organization} en ninguna "
        "aplicación ni número. Responde START en uno para volver allí.",
        "link_code": "Tu código es {code}. Para recibir nuestros mensajes también en otra "
        "aplicación, envía allí VINCULAR {code} en los próximos 15 minutos.",
        "linked": "Listo: ahora sabemos que eres tú en ambas. Responde STOP aquí para parar "
        "solo aquí, STOPALL para parar en todas.",
        "link_failed": "Ese código no funcionó (incorrecto o de más de 15 minutos). Envía "
        "VINCULAR en tu otra aplicación para recibir uno nuevo.",
    },
}

# Words that skip an onboarding question, in every language we ship.
SKIP_WORDS = frozenset({"skip", "ruka", "passer", "saltar", "pass", "next"})


def reply_text(
    key: str,
    *,
    language: str,
    default_language: str,
    overrides: Mapping[tuple[str, str], str],
    context: Mapping[str, object],
) -> tuple[str, str]:
    """The wording of reply `key` and the language it is in, after fallback."""
    for candidate in dict.fromkeys((language, default_language, "en")):
        text = overrides.get((key, candidate)) or DEFAULT_REPLIES.get(candidate, {}).get(key)
        if text:
            return text.format_map(_Lenient(context)), candidate
    raise KeyError(f"No reply called {key!r}")


class _Lenient(dict):
    # An organization's own wording may name a placeholder we do not fill: leave it visible.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
