//! The words of the prompt: built-in English, French, German and Spanish, every string
//! replaceable by the publisher, counts in the language's plural forms.

use crate::config::int_text;
use crate::email::EmailError;
use crate::list_len;
use crate::meter::Wall;
use crate::period::Period;

/// Every string the prompt shows, by the name publishers use in `copy: { … }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// `registerHeading`: "Keep reading for free!"
    RegisterHeading,
    /// `registerLead`: the sentence above the email form.
    RegisterLead,
    /// `unlockHeading`.
    UnlockHeading,
    /// `unlockLead`.
    UnlockLead,
    /// `unlockButtonOne`: the unlock button when the count is in the "one" plural category.
    UnlockButtonOne,
    /// `unlockButtonOther`: the unlock button for every other count.
    UnlockButtonOther,
    /// `subscribeHeading`.
    SubscribeHeading,
    /// `subscribeLead`.
    SubscribeLead,
    /// `emailLabel`.
    EmailLabel,
    /// `newsletterLabel`: the newsletter consent checkbox.
    NewsletterLabel,
    /// `submit`.
    Submit,
    /// `sending`.
    Sending,
    /// `sendFailed`: the server could not be reached.
    SendFailed,
    /// `offline`: the reader is offline; the address will be sent when they are back.
    Offline,
    /// `emailEmpty`.
    EmailEmpty,
    /// `emailTooLong`.
    EmailTooLong,
    /// `emailLocalTooLong`.
    EmailLocalTooLong,
    /// `emailInvalid`.
    EmailInvalid,
    /// `subscribeBefore`, `subscribeLink`, `subscribeAfter`: "Or, " "Subscribe now" " to get full access."
    SubscribeBefore,
    /// See `SubscribeBefore`.
    SubscribeLink,
    /// See `SubscribeBefore`.
    SubscribeAfter,
    /// `subscribeCta`: the subscribe wall's call to action.
    SubscribeCta,
    /// `loginBefore`, `loginLink`, `loginAfter`: "Already a subscriber? " "Log in here" "."
    LoginBefore,
    /// See `LoginBefore`.
    LoginLink,
    /// See `LoginBefore`.
    LoginAfter,
    /// `benefitsHeading`.
    BenefitsHeading,
    /// `benefits`: the list, items separated by a newline (`\n`).
    Benefits,
    /// `periodMonth`: how "{period}" reads for monthly allowances.
    PeriodMonth,
    /// `periodWeek`.
    PeriodWeek,
    /// `periodDay`.
    PeriodDay,
    /// `regionLabel`: the prompt's accessible name prefix for screen readers.
    RegionLabel,
    /// `premiumLead`: the subscribe wall's sentence where no free article was read (a premium
    /// page, an allowance of none).
    PremiumLead,
    /// `signupRefused`: the server answered, but did not take the address, and said no more.
    SignupRefused,
}

/// The config names of [`Text`], in declaration order (a `texts!` list).
pub const NAMES: &str = texts![
    "registerHeading",
    "registerLead",
    "unlockHeading",
    "unlockLead",
    "unlockButtonOne",
    "unlockButtonOther",
    "subscribeHeading",
    "subscribeLead",
    "emailLabel",
    "newsletterLabel",
    "submit",
    "sending",
    "sendFailed",
    "offline",
    "emailEmpty",
    "emailTooLong",
    "emailLocalTooLong",
    "emailInvalid",
    "subscribeBefore",
    "subscribeLink",
    "subscribeAfter",
    "subscribeCta",
    "loginBefore",
    "loginLink",
    "loginAfter",
    "benefitsHeading",
    "benefits",
    "periodMonth",
    "periodWeek",
    "periodDay",
    "regionLabel",
    "premiumLead",
    "signupRefused",
];

const ALL: [Text; 33] = [
    Text::RegisterHeading,
    Text::RegisterLead,
    Text::UnlockHeading,
    Text::UnlockLead,
    Text::UnlockButtonOne,
    Text::UnlockButtonOther,
    Text::SubscribeHeading,
    Text::SubscribeLead,
    Text::EmailLabel,
    Text::NewsletterLabel,
    Text::Submit,
    Text::Sending,
    Text::SendFailed,
    Text::Offline,
    Text::EmailEmpty,
    Text::EmailTooLong,
    Text::EmailLocalTooLong,
    Text::EmailInvalid,
    Text::SubscribeBefore,
    Text::SubscribeLink,
    Text::SubscribeAfter,
    Text::SubscribeCta,
    Text::LoginBefore,
    Text::LoginLink,
    Text::LoginAfter,
    Text::BenefitsHeading,
    Text::Benefits,
    Text::PeriodMonth,
    Text::PeriodWeek,
    Text::PeriodDay,
    Text::RegionLabel,
    Text::PremiumLead,
    Text::SignupRefused,
];

impl Text {
    /// The text's name in `copy: { … }`.
    pub fn name(self) -> &'static str {
        crate::list_item(NAMES, self as usize)
    }

    /// The text named `name` in `copy: { … }`.
    pub fn from_name(name: &str) -> Option<Text> {
        // `ALL.get`, not indexing: no bounds check and panic in the config reader (27 bytes gzip).
        crate::list_items(NAMES)
            .position(|n| n == name)
            .and_then(|i| ALL.get(i).copied())
    }
}

/// The built-in languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English, the reference copy.
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Spanish.
    Es,
}

impl Lang {
    /// The language of a BCP 47 tag among the four built-in ones (`fr-CA` is French); English
    /// when none fits. In a build that leaves that language's copy out, its texts show in English
    /// ([`Lang::shown`]), while its plural rules and its tag (sent with a signup) still hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::copy::Lang;
    /// assert_eq!(Lang::from_tag("de-AT"), Lang::De);
    /// assert_eq!(Lang::from_tag("pt-BR"), Lang::En);
    /// ```
    pub fn from_tag(tag: &str) -> Lang {
        Lang::any_named(tag).unwrap_or(Lang::En)
    }

    /// The language whose copy shows for this one: itself, or English where the build leaves
    /// it out.
    pub fn shown(self) -> Lang {
        if self.built_in() {
            self
        } else {
            Lang::En
        }
    }

    /// The built-in language a BCP 47 tag names (`en-GB` is English), if any: also what tells
    /// the prompt's `lang` whether a configured locale has built-in copy, rather than a test of
    /// its own for English there (21 bytes of wasm, gzip).
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::copy::Lang;
    /// assert_eq!(Lang::named("EN_us"), Some(Lang::En));
    /// assert_eq!(Lang::named("pt-BR"), None);
    /// ```
    pub fn named(tag: &str) -> Option<Lang> {
        Lang::any_named(tag).filter(|l| l.built_in())
    }

    /// The built-in language a tag names that this build of the widget leaves out (see
    /// [`Lang::built_in`]), if any: its copy shows in English, and the config says so.
    pub fn left_out(tag: &str) -> Option<Lang> {
        // Said before the tag is read: in the default build no language is left out, and no
        // caller's work on the answer is linked.
        if Lang::EVERY {
            return None;
        }
        Lang::any_named(tag).filter(|l| !l.built_in())
    }

    /// Whether this build holds every language's copy (the default).
    pub const EVERY: bool = cfg!(all(
        feature = "lang-fr",
        feature = "lang-de",
        feature = "lang-es"
    ));

    /// Whether this build holds the language's copy. English always; French, German and Spanish
    /// with the crate's features `lang-fr`, `lang-de` and `lang-es` (on by default), which a
    /// publisher whose pages are in one language can leave out of what every reader downloads
    /// (`cargo xtask build --languages en`).
    pub fn built_in(self) -> bool {
        match self {
            Lang::En => true,
            Lang::Fr => cfg!(feature = "lang-fr"),
            Lang::De => cfg!(feature = "lang-de"),
            Lang::Es => cfg!(feature = "lang-es"),
        }
    }

    /// The language a BCP 47 tag names, built in or not.
    fn any_named(tag: &str) -> Option<Lang> {
        // By bytes, a letter's case folded with `| 0x20` (which makes a lowercase letter only
        // of that letter in either case): no lowercased copy, no `char` pattern searcher.
        // A primary subtag of two bytes: the whole tag, or followed by a separator. Matched as a
        // slice pattern rather than split off: no splitting iterator. A separator among the two
        // folds to no letter (`-` stays `-`, `_` becomes DEL), so is no language either.
        match tag.as_bytes() {
            &[a, b] | &[a, b, b'-' | b'_', ..] => match [a | 0x20, b | 0x20] {
                [b'e', b'n'] => Some(Lang::En),
                [b'f', b'r'] => Some(Lang::Fr),
                [b'd', b'e'] => Some(Lang::De),
                [b'e', b's'] => Some(Lang::Es),
                _ => None,
            },
            _ => None,
        }
    }

    /// The language's name in English, for messages to publishers.
    pub fn english_name(self) -> &'static str {
        crate::list_item(
            texts!["English", "French", "German", "Spanish"],
            self as usize,
        )
    }

    /// The language's tag, sent with the signup.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Es => "es",
        }
    }

    /// The CLDR plural category of a whole number `n` in this language, as the copy
    /// distinguishes them: French counts 0 and 1 as "one", English, German and Spanish only 1.
    /// (The browser's `Intl.PluralRules` agrees: `tests/web.rs` checks every `u8` in both
    /// browsers; asking it instead costs the prompt a quarter of a millisecond.)
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::copy::{Lang, Plural};
    /// assert_eq!(Lang::Fr.plural(0), Plural::One);
    /// assert_eq!(Lang::En.plural(0), Plural::Other);
    /// assert_eq!(Lang::De.plural(1), Plural::One);
    /// ```
    pub fn plural(self, n: u8) -> Plural {
        let one = match self {
            Lang::Fr => n <= 1,
            Lang::En | Lang::De | Lang::Es => n == 1,
        };
        if one {
            Plural::One
        } else {
            Plural::Other
        }
    }

    /// The language's own text `t`.
    fn builtin(self, t: Text) -> &'static str {
        crate::list_item(self.table(), t as usize)
    }

    fn table(self) -> &'static str {
        // A language this build leaves out is never chosen (`named` does not give it); its copy
        // is not referred to, so it is not in the wasm.
        match self {
            Lang::Fr if cfg!(feature = "lang-fr") => FR,
            Lang::De if cfg!(feature = "lang-de") => DE,
            Lang::Es if cfg!(feature = "lang-es") => ES,
            _ => EN,
        }
    }
}

// A language missing a text, or with one too many, does not build; nor does a missing name.
const _: () = assert!(
    list_len(NAMES) == 33
        && list_len(EN) == 33
        && list_len(FR) == 33
        && list_len(DE) == 33
        && list_len(ES) == 33
);

// Each language's 31 texts, in [`Text`] order.
const EN: &str = texts![
    "Keep reading for free!",
    "Get instant access to the rest of this article by submitting your email address below. You'll also get access to three articles of your choice each month and our free newsletter:",
    "Use one of your free articles?",
    "As a registered reader you choose which articles to read in full.",
    "Unlock this article ({remaining} of {limit} left {period})",
    "Unlock this article ({remaining} of {limit} left {period})",
    "Subscribe to keep reading",
    "You've read all of your free articles {period}. Subscribe for unlimited access.",
    "Email address",
    "Also send me the free newsletter",
    "Get access",
    "Sending…",
    "We couldn't reach the server. Please check your connection and try again.",
    "You're offline. We'll send your email address as soon as you're back online.",
    "Please enter your email address.",
    "That email address is too long (254 characters at most).",
    "The part before the @ is too long (64 characters at most).",
    "Please enter a valid email address, like name@example.com.",
    "Or, ",
    "Subscribe now",
    " to get full access.",
    "See subscription options",
    "Already a subscriber? ",
    "Log in here",
    ".",
    "What you'll get with an All-Access subscription",
    "Unlimited access to every article, analysis and briefing\nThe daily newsletter with the day's essential reporting from around the world\nThe complete archive, searchable back to our first issue\nInvitations to subscriber-only briefings with our correspondents",
    "this month",
    "this week",
    "today",
    "Subscription offer",
    "This article is for subscribers. Subscribe for unlimited access.",
    "We couldn't complete your signup. Please reload the page and try again.",
];

/// French puts a space before `!`, `?`, `:` and `;`: a narrow no-break one (U+202F), so that a
/// narrow column never breaks the line before the mark.
const FR: &str = texts![
    "Continuez à lire gratuitement !",
    "Accédez immédiatement à la suite de cet article en indiquant votre adresse e-mail ci-dessous. Vous aurez aussi accès chaque mois à trois articles de votre choix et à notre lettre d'information gratuite :",
    "Utiliser l'un de vos articles gratuits ?",
    "En tant que lecteur inscrit, vous choisissez les articles à lire en entier.",
    "Débloquer cet article (il vous en reste {remaining} sur {limit} {period})",
    "Débloquer cet article (il vous en reste {remaining} sur {limit} {period})",
    "Abonnez-vous pour continuer à lire",
    "Vous avez lu tous vos articles gratuits {period}. Abonnez-vous pour un accès illimité.",
    "Adresse e-mail",
    "Recevoir aussi la lettre d'information gratuite",
    "Accéder à l'article",
    "Envoi…",
    "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.",
    "Vous êtes hors ligne. Votre adresse sera envoyée dès le retour de la connexion.",
    "Veuillez indiquer votre adresse e-mail.",
    "Cette adresse e-mail est trop longue (254 caractères au plus).",
    "La partie avant le @ est trop longue (64 caractères au plus).",
    "Veuillez indiquer une adresse e-mail valide, par exemple nom@exemple.fr.",
    "Ou ",
    "abonnez-vous",
    " pour un accès complet.",
    "Voir les offres d'abonnement",
    "Déjà abonné ? ",
    "Connectez-vous ici",
    ".",
    "Ce que vous offre l'abonnement Accès intégral",
    "Un accès illimité à tous les articles, analyses et synthèses\nLa lettre quotidienne avec l'essentiel de l'actualité mondiale\nToutes nos archives, depuis notre premier numéro\nDes invitations aux rencontres réservées aux abonnés avec nos correspondants",
    "ce mois-ci",
    "cette semaine",
    "aujourd'hui",
    "Offre d'abonnement",
    "Cet article est réservé aux abonnés. Abonnez-vous pour un accès illimité.",
    "Votre inscription n'a pas pu aboutir. Rechargez la page et réessayez.",
];

const DE: &str = texts![
    "Kostenlos weiterlesen!",
    "Lesen Sie den Rest dieses Artikels sofort, indem Sie unten Ihre E-Mail-Adresse angeben. Sie erhalten außerdem jeden Monat drei Artikel Ihrer Wahl und unseren kostenlosen Newsletter:",
    "Einen Ihrer kostenlosen Artikel verwenden?",
    "Als registrierte Leserin oder registrierter Leser wählen Sie selbst, welche Artikel Sie ganz lesen.",
    "Diesen Artikel freischalten (noch {remaining} von {limit} {period})",
    "Diesen Artikel freischalten (noch {remaining} von {limit} {period})",
    "Abonnieren Sie, um weiterzulesen",
    "Sie haben {period} alle kostenlosen Artikel gelesen. Mit einem Abonnement lesen Sie unbegrenzt.",
    "E-Mail-Adresse",
    "Auch den kostenlosen Newsletter erhalten",
    "Weiterlesen",
    "Wird gesendet…",
    "Der Server ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    "Sie sind offline. Wir senden Ihre E-Mail-Adresse, sobald die Verbindung wieder da ist.",
    "Bitte geben Sie Ihre E-Mail-Adresse ein.",
    "Diese E-Mail-Adresse ist zu lang (höchstens 254 Zeichen).",
    "Der Teil vor dem @ ist zu lang (höchstens 64 Zeichen).",
    "Bitte geben Sie eine gültige E-Mail-Adresse ein, etwa name@beispiel.de.",
    "Oder für den vollen Zugang ",
    "jetzt abonnieren",
    ".",
    "Abo-Angebote ansehen",
    "Schon abonniert? ",
    "Hier anmelden",
    ".",
    "Das bietet Ihnen ein All-Access-Abonnement",
    "Unbegrenzter Zugang zu allen Artikeln, Analysen und Briefings\nDer tägliche Newsletter mit dem Wichtigsten aus aller Welt\nDas vollständige Archiv, durchsuchbar bis zur ersten Ausgabe\nEinladungen zu Briefings mit unseren Korrespondenten nur für Abonnenten",
    "diesen Monat",
    "diese Woche",
    "heute",
    "Abonnement-Angebot",
    "Dieser Artikel ist Abonnenten vorbehalten. Mit einem Abonnement lesen Sie unbegrenzt.",
    "Ihre Anmeldung konnte nicht abgeschlossen werden. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
];

const ES: &str = texts![
    "¡Siga leyendo gratis!",
    "Acceda al instante al resto de este artículo indicando su correo electrónico a continuación. También tendrá acceso cada mes a tres artículos de su elección y a nuestro boletín gratuito:",
    "¿Usar uno de sus artículos gratuitos?",
    "Como lector registrado, usted elige qué artículos leer completos.",
    "Desbloquear este artículo (le queda {remaining} de {limit} {period})",
    "Desbloquear este artículo (le quedan {remaining} de {limit} {period})",
    "Suscríbase para seguir leyendo",
    "Ha leído todos sus artículos gratuitos {period}. Suscríbase para tener acceso ilimitado.",
    "Correo electrónico",
    "Enviarme también el boletín gratuito",
    "Acceder",
    "Enviando…",
    "No pudimos conectar con el servidor. Compruebe su conexión e inténtelo de nuevo.",
    "Está sin conexión. Enviaremos su correo electrónico en cuanto vuelva a estar en línea.",
    "Indique su correo electrónico.",
    "Ese correo electrónico es demasiado largo (254 caracteres como máximo).",
    "La parte anterior a la @ es demasiado larga (64 caracteres como máximo).",
    "Indique un correo electrónico válido, como nombre@ejemplo.es.",
    "O ",
    "suscríbase ahora",
    " para tener acceso completo.",
    "Ver las opciones de suscripción",
    "¿Ya es suscriptor? ",
    "Inicie sesión aquí",
    ".",
    "Lo que obtiene con una suscripción de acceso total",
    "Acceso ilimitado a todos los artículos, análisis y resúmenes\nEl boletín diario con lo esencial de la actualidad mundial\nEl archivo completo, con búsqueda desde nuestro primer número\nInvitaciones a encuentros exclusivos para suscriptores con nuestros corresponsales",
    "este mes",
    "esta semana",
    "hoy",
    "Oferta de suscripción",
    "Este artículo es exclusivo para suscriptores. Suscríbase para tener acceso ilimitado.",
    "No pudimos completar su registro. Vuelva a cargar la página e inténtelo de nuevo.",
];

/// The prompt's copy for one page: a language's built-in strings with the publisher's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    /// The language of the built-in strings.
    pub lang: Lang,
    /// The publisher's replacements, by text.
    pub overrides: Vec<(Text, String)>,
}

impl Default for Copy {
    fn default() -> Self {
        Copy {
            lang: Lang::En,
            overrides: Vec::new(),
        }
    }
}

/// CLDR plural categories the copy distinguishes: `one` and everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plural {
    /// The "one" category (in French, 0 and 1; in English, 1).
    One,
    /// Any other category.
    Other,
}

impl Copy {
    /// One string: the publisher's if given, else the language's.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::copy::{Copy, Lang, Text};
    /// let copy = Copy { lang: Lang::Fr, overrides: vec![(Text::Submit, "Lire".into())] };
    /// assert_eq!(copy.text(Text::Submit), "Lire");
    /// assert_eq!(copy.text(Text::EmailLabel), "Adresse e-mail");
    /// ```
    pub fn text(&self, t: Text) -> &str {
        // The last override of `t` wins, else the built-in text: a forward loop rather than a
        // reversed search mapped and defaulted.
        let mut text = self.lang.builtin(t);
        for (o, s) in &self.overrides {
            if *o == t {
                text = s;
            }
        }
        text
    }

    /// The heading of a wall.
    pub fn heading(&self, wall: Wall) -> &str {
        self.text(match wall {
            Wall::Register => Text::RegisterHeading,
            Wall::Unlock => Text::UnlockHeading,
            Wall::Subscribe => Text::SubscribeHeading,
        })
    }

    /// The sentence under a wall's heading; `spent`: the reader has read the free articles
    /// they had (not so on a premium page, or under an allowance of none).
    pub fn lead(&self, wall: Wall, period: Period, spent: bool) -> String {
        let template = self.text(match wall {
            Wall::Register => Text::RegisterLead,
            Wall::Unlock => Text::UnlockLead,
            Wall::Subscribe if spent => Text::SubscribeLead,
            Wall::Subscribe => Text::PremiumLead,
        });
        fill(template, &[("period}", self.period(period))])
    }

    fn period(&self, period: Period) -> &str {
        match period {
            Period::Month => self.text(Text::PeriodMonth),
            Period::Week => self.text(Text::PeriodWeek),
            Period::Day => self.text(Text::PeriodDay),
            Period::Rolling { .. } | Period::Lifetime => "",
        }
    }

    /// The unlock button, in the plural form the browser's `Intl.PluralRules` chose for
    /// `remaining`.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::copy::{Copy, Lang, Plural};
    /// use meterwall::period::Period;
    /// let en = Copy::default();
    /// assert_eq!(en.unlock(2, 3, Period::Month, Plural::Other), "Unlock this article (2 of 3 left this month)");
    /// let es = Copy { lang: Lang::Es, overrides: vec![] };
    /// assert_eq!(es.unlock(1, 3, Period::Week, Plural::One), "Desbloquear este artículo (le queda 1 de 3 esta semana)");
    /// ```
    pub fn unlock(&self, remaining: u8, limit: u8, period: Period, plural: Plural) -> String {
        let template = self.text(match plural {
            Plural::One => Text::UnlockButtonOne,
            Plural::Other => Text::UnlockButtonOther,
        });
        fill(
            template,
            &[
                ("remaining}", &int_text(remaining.into())),
                ("limit}", &int_text(limit.into())),
                ("period}", self.period(period)),
            ],
        )
    }

    /// What to tell a reader whose address cannot be sent.
    pub fn email_error(&self, e: EmailError) -> &str {
        self.text(match e {
            EmailError::Empty => Text::EmailEmpty,
            EmailError::TooLong => Text::EmailTooLong,
            EmailError::LocalTooLong => Text::EmailLocalTooLong,
            EmailError::Invalid => Text::EmailInvalid,
        })
    }

    /// The benefits list, one item a line.
    pub fn benefits(&self) -> impl Iterator<Item = &str> {
        crate::pieces(self.text(Text::Benefits), b'\n')
            .map(crate::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Replaces each placeholder, folds the double spaces an empty one leaves and the space it leaves
/// before `)` or `.`. One pass with no substring search and no slicing that could panic:
/// `str::replace` would link the standard library's two-way searcher (about 2 KB of wasm) for this
/// alone. Each of `values` pairs a placeholder, written as what follows its `{` (`"limit}"` for
/// `{limit}`), with its text.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = Filled {
        text: String::with_capacity(template.len()),
        space: false,
    };
    // One walk over the template's characters: at each `{`, the rest of the template is matched
    // against each key, the rest of a placeholder (`name}` for a `{name}`, with no other brace),
    // as it is, with no slicing; a placeholder's value is written and the walk goes on after it.
    let mut rest = template.chars();
    while let Some(c) = rest.next() {
        if c == '{' {
            let tail = rest.as_str();
            if let Some((value, after)) = values
                .iter()
                .find_map(|(key, value)| Some((value, tail.strip_prefix(key)?)))
            {
                out.push(value);
                rest = after.chars();
                continue;
            }
        }
        out.push_char(c);
    }
    if out.space {
        out.text.push(' ');
    }
    out.text
}

/// The text [`fill`] is writing, and whether a space is due before what follows.
///
/// One rule: a space right before a space, `)` or `.` is dropped (two spaces become one). A space
/// is held back until what follows it is known: no space written then taken back (67 bytes of
/// wasm, gzip). The text is written a character at a time, in the same walk that meets the
/// template's braces: less code than splitting it at braces and then at spaces to copy runs
/// (52 bytes of wasm, gzip, though other code still links the splitting).
struct Filled {
    text: String,
    space: bool,
}

impl Filled {
    fn push(&mut self, text: &str) {
        for c in text.chars() {
            self.push_char(c);
        }
    }

    fn push_char(&mut self, c: char) {
        if c == ' ' {
            self.space = true;
            return;
        }
        if self.space && c != ')' && c != '.' {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn a_build_with_every_language_leaves_none_out() {
        for tag in ["en", "fr-CA", "de", "ES_mx", "pt-BR", ""] {
            assert_eq!(Lang::left_out(tag), None, "{tag}");
        }
        assert_eq!(Lang::named("fr-CA"), Some(Lang::Fr));
    }

    /// `cargo xtask test` runs this in a build without French (`--no-default-features`).
    #[test]
    #[cfg(not(feature = "lang-fr"))]
    fn a_build_without_french_shows_french_pages_english() {
        assert!(!Lang::Fr.built_in());
        assert_eq!(Lang::named("fr-CA"), None);
        assert_eq!(Lang::left_out("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::left_out("en-GB"), None);
        assert_eq!(Lang::left_out("pt-BR"), None);
        // The page's language is kept, for its plural rules and tag; its texts are English.
        assert_eq!(Lang::from_tag("fr"), Lang::Fr);
        assert_eq!(Lang::Fr.shown(), Lang::En);
        assert_eq!(Lang::Fr.tag(), "fr");
        assert!(Lang::Fr.plural(0) == Plural::One);
        assert_eq!(
            Lang::Fr.builtin(Text::RegisterHeading),
            "Keep reading for free!"
        );
        assert_eq!(Lang::Fr.english_name(), "French");
    }

    #[test]
    fn reference_copy_is_exact() {
        let c = Copy::default();
        assert_eq!(c.heading(Wall::Register), "Keep reading for free!");
        assert_eq!(
            c.lead(Wall::Register, Period::Month, false),
            "Get instant access to the rest of this article by submitting your email address below. You'll also get access to three articles of your choice each month and our free newsletter:"
        );
        let subscribe = [
            Text::SubscribeBefore,
            Text::SubscribeLink,
            Text::SubscribeAfter,
        ];
        let login = [Text::LoginBefore, Text::LoginLink, Text::LoginAfter];
        assert_eq!(
            subscribe.map(|t| c.text(t)).concat(),
            "Or, Subscribe now to get full access."
        );
        assert_eq!(
            login.map(|t| c.text(t)).concat(),
            "Already a subscriber? Log in here."
        );
        assert_eq!(
            c.text(Text::BenefitsHeading),
            "What you'll get with an All-Access subscription"
        );
        assert_eq!(c.benefits().count(), 4);
    }

    /// A French text never breaks a line before its `!`, `?`, `:` or `;`: the space before each
    /// is a narrow no-break one, never an ordinary space.
    #[test]
    fn french_punctuation_keeps_to_its_word() {
        let mut marks = 0;
        for text in FR.split('\u{1f}') {
            let chars: Vec<char> = text.chars().collect();
            for (i, &c) in chars.iter().enumerate().skip(1) {
                if matches!(c, '!' | '?' | ':' | ';') {
                    marks += 1;
                    assert_eq!(chars[i - 1], '\u{202f}', "before {c:?} in {text:?}");
                }
            }
        }
        assert!(
            marks >= 4,
            "the French copy's marks were not found: {marks}"
        );
    }

    /// `fill` as it was when it wrote each character and took a space back, and searched for
    /// each brace in turn, verbatim, to compare the two.
    fn old_fill(template: &str, values: &[(&str, &str)]) -> String {
        fn push(out: &mut String, text: &str) {
            for c in text.chars() {
                // One rule for the three: a space before a space, `)` or `.` is dropped (before a
                // space, the two become one).
                if matches!(c, ' ' | ')' | '.') && out.ends_with(' ') {
                    out.pop();
                }
                out.push(c);
            }
        }
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some((before, brace)) = rest.find('{').and_then(|at| rest.split_at_checked(at)) {
            push(&mut out, before);
            match values
                .iter()
                .find_map(|(key, value)| Some((value, brace.strip_prefix(key)?)))
            {
                Some((value, after)) => {
                    push(&mut out, value);
                    rest = after;
                }
                None => {
                    push(&mut out, "{");
                    rest = brace.strip_prefix('{').unwrap_or_default();
                }
            }
        }
        push(&mut out, rest);
        out
    }

    #[test]
    fn fill_is_unchanged_by_holding_spaces_back_and_walking_the_template() {
        // Every template of up to six pieces from these, with values that are empty, spaces,
        // or start or end with the characters the rule looks at.
        let pieces = [
            " ", "a", ")", ".", "é", "{", "{a}", "{b}", "{c}", "{d}", "}", "  ",
        ];
        let values = [("{a}", "x"), ("{b}", ""), ("{c}", " "), ("{d}", ". y ")];
        let keys = [("a}", "x"), ("b}", ""), ("c}", " "), ("d}", ". y ")];
        let texts = crate::every_text(&pieces, 6);
        assert!(texts.len() > 3_000_000);
        for text in &texts {
            assert_eq!(fill(text, &keys), old_fill(text, &values), "{text:?}");
        }
        for lang in [Lang::En, Lang::Fr, Lang::De, Lang::Es] {
            for t in ALL {
                let text = lang.builtin(t);
                for period in ["", "this month", " ", "x."] {
                    let values = [("{remaining}", "2"), ("{limit}", "3"), ("{period}", period)];
                    let keys = [("remaining}", "2"), ("limit}", "3"), ("period}", period)];
                    assert_eq!(fill(text, &keys), old_fill(text, &values), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn placeholders_are_filled_once_and_empty_ones_leave_no_stray_space() {
        let values = [("a}", "x"), ("b}", ""), ("c}", "{a}")];
        assert_eq!(fill("({a} {b}) and {b}.", &values), "(x) and.");
        assert_eq!(fill("{c} {unknown} {", &values), "{a} {unknown} {");
        assert_eq!(fill("many   spaces ( {b} )", &values), "many spaces ()");
        assert_eq!(fill("ünïcödé {a}", &values), "ünïcödé x");
    }

    #[test]
    fn unlock_label_names_the_period_or_nothing() {
        let c = Copy::default();
        assert_eq!(
            c.unlock(1, 3, Period::Week, Plural::One),
            "Unlock this article (1 of 3 left this week)"
        );
        assert_eq!(
            c.unlock(0, 5, Period::Lifetime, Plural::Other),
            "Unlock this article (0 of 5 left)"
        );
        assert_eq!(
            c.lead(Wall::Subscribe, Period::Rolling { days: 30 }, true),
            "You've read all of your free articles. Subscribe for unlimited access."
        );
        assert_eq!(
            c.lead(Wall::Subscribe, Period::Month, false),
            "This article is for subscribers. Subscribe for unlimited access."
        );
    }

    #[test]
    fn every_language_has_every_text_and_the_placeholders() {
        for lang in [Lang::En, Lang::Fr, Lang::De, Lang::Es] {
            assert!(ALL.iter().all(|t| !lang.builtin(*t).is_empty()), "{lang:?}");
            for t in [Text::UnlockButtonOne, Text::UnlockButtonOther] {
                let s = lang.builtin(t);
                assert!(
                    s.contains("{remaining}") && s.contains("{limit}") && s.contains("{period}")
                );
            }
            assert!(lang.builtin(Text::SubscribeLead).contains("{period}"));
            let c = Copy {
                lang,
                overrides: vec![],
            };
            assert_eq!(c.benefits().count(), 4);
        }
    }

    #[test]
    fn names_and_texts_line_up() {
        for (i, name) in crate::list_items(NAMES).enumerate() {
            assert_eq!(Text::from_name(name), Some(ALL[i]));
            assert_eq!(ALL[i] as usize, i);
        }
        assert_eq!(Text::from_name("nope"), None);
    }

    #[test]
    // Of the built-in French, German and Spanish copy: in the build that has them.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn publisher_overrides_win_and_may_use_placeholders() {
        let c = Copy {
            lang: Lang::De,
            overrides: vec![(
                Text::UnlockButtonOther,
                "Lesen ({remaining}/{limit})".into(),
            )],
        };
        assert_eq!(c.unlock(2, 3, Period::Month, Plural::Other), "Lesen (2/3)");
        assert_eq!(c.heading(Wall::Register), "Kostenlos weiterlesen!");
    }

    /// The test the prompt's `lang` made of a locale before [`Lang::named`], verbatim.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn old_built_in(tag: &str) -> bool {
        old_from_tag(tag) != crate::copy::Lang::En
            || tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("en"))
                && matches!(tag.as_bytes().get(2), None | Some(b'-' | b'_'))
    }

    /// [`Lang::from_tag`] before [`Lang::named`], verbatim.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn old_from_tag(tag: &str) -> Lang {
        // By bytes, a letter's case folded with `| 0x20` (which makes a lowercase letter only
        // of that letter in either case): no lowercased copy, no `char` pattern searcher.
        let primary = tag.as_bytes().split(|&b| b == b'-' || b == b'_').next();
        match primary {
            Some(&[a, b]) => match [a | 0x20, b | 0x20] {
                [b'f', b'r'] => Lang::Fr,
                [b'd', b'e'] => Lang::De,
                [b'e', b's'] => Lang::Es,
                _ => Lang::En,
            },
            _ => Lang::En,
        }
    }

    #[test]
    // Of the built-in French, German and Spanish copy: in the build that has them.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn named_languages_are_those_the_old_test_took_as_built_in() {
        let parts = [
            "", "e", "E", "n", "en", "EN", "eN", "En", "fr", "FR", "de", "dE", "es", "Es", "pt",
            "eng", "fra", "é", "eé", "\u{e9}n", "-", "_", "-en", "x", "en-", "1", " ", "\0",
        ];
        let ends = [
            "", "-", "_", "-CA", "_us", "x", "n", " ", "é", "-é", "--", "1",
        ];
        for p in parts {
            for e in ends {
                let tag = format!("{p}{e}");
                assert_eq!(Lang::named(&tag).is_some(), old_built_in(&tag), "{tag:?}");
                assert_eq!(Lang::from_tag(&tag), old_from_tag(&tag));
            }
        }
    }

    #[test]
    // Of the built-in French, German and Spanish copy: in the build that has them.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn language_tags_pick_the_built_in_language() {
        assert_eq!(Lang::from_tag("fr-CA"), Lang::Fr);
        assert_eq!(Lang::from_tag("ES"), Lang::Es);
        assert_eq!(Lang::from_tag("de_CH"), Lang::De);
        assert_eq!(Lang::from_tag(""), Lang::En);
        assert_eq!(Lang::from_tag("ar"), Lang::En);
    }

    #[test]
    // Of the built-in French, German and Spanish copy: in the build that has them.
    #[cfg(all(feature = "lang-fr", feature = "lang-de", feature = "lang-es"))]
    fn email_errors_are_translated() {
        let fr = Copy {
            lang: Lang::Fr,
            overrides: vec![],
        };
        assert_eq!(
            fr.email_error(EmailError::Empty),
            "Veuillez indiquer votre adresse e-mail."
        );
        let en = Copy::default();
        assert_eq!(
            en.email_error(EmailError::Invalid),
            EmailError::Invalid.to_string()
        );
    }
}
