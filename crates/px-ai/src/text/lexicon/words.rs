//! Function words of both languages: stopwords, negators, intensifiers,
//! contrast words and the multi-word phrases that mean one concept.
//!
//! Why separate lists: a word can be noise for topics yet decide sentiment
//! ("not", "very", "but"), so each stage asks for the role it cares about.
//! Words are written with their accents and folded when the lexicon is built.

/// Words that carry no topic in English feedback, separated by whitespace.
/// Negators, intensifiers and contrast words are removed from terms by their
/// own lists.
pub(super) const STOP_EN: &str = "\
    a an the and or if then than as at by for from in into of on onto to with about over under up down out off i me \
    my mine myself we us our ours you your yours he him his she her it its itself they them their this that these \
    those there here what which who whom whose when where why how is am are was were be been being have has had \
    having do does did doing done will would shall should can could may might must able just also only much more \
    most some any all every each both few many other another same own still even yet ever already now once always \
    sometimes get got gets getting gotten make made makes making take took takes taking taken go goes going went \
    come came say says said tell told let lets like one two three four five six seven eight nine ten first thing \
    things something anything everything stuff way lot lots please hi hello hey guys etc eg ie via per while because \
    since until after before during through across around between within right away back yes oh wow use used using \
    uses seems seem look looks try tried trying tries put see saw seen know knew think thought im ive youre whats \
    thats theres everyone someone anyone whole new old next last else enough almost probably maybe actually \
    basically literally anyway though ok";

/// Words that carry no topic in Brazilian Portuguese feedback.
pub(super) const STOP_PT: &str = "\
    a o as os um uma uns umas de do da dos das em no na nos nas num numa ao aos à às pelo pela pelos pelas por para \
    pra pro pras pros com como que quem qual quais quando onde porque porquê pq se e ou mais menos muito muita \
    muitos muitas tanto tanta já ainda só somente apenas também eu me mim meu minha meus minhas você vocês vc vcs \
    seu sua seus suas ele ela eles elas nós nosso nossa nossos nossas lhe isso isto esse essa esses essas este esta \
    estes estas aquele aquela aquilo aqui ali lá la lo ser sou é era foi fui foram são seja sendo sido estar estou \
    está estava estão estamos ficou fica ficar fiquei ter tem têm tenho tinha tive teve temos há houve fazer faz fiz \
    fez fazendo feito ir vou vai vamos vão poder pode posso podia consigo consegue consegui conseguir conseguimos \
    conseguiu dar dá deu dou dizer diz disse dizendo ver vejo vi viu veio vem coisa coisas algo tudo todo toda todos \
    todas cada outro outra outros outras mesmo mesma então depois antes agora sempre vez vezes gente pessoal pessoas \
    pessoa até sobre entre após desde durante via oi olá favor pois enquanto né tipo aí daí cinco dois duas três \
    quatro seis sete oito nove dez primeiro primeira usar uso usando pedi pedir tento tentando tentei tentar tentou \
    novo nova acho parece exatamente realmente basicamente demais ok geral porém contudo entretanto todavia";

/// English words that negate what follows; they become the negation marker
/// among terms. "no" is English only: in Portuguese it means "in the".
pub(super) const NEGATORS_EN: &str = "\
    not no never cannot cant dont doesnt didnt isnt arent wasnt werent wont wouldnt couldnt shouldnt hasnt havent \
    hadnt aint nothing none nobody nowhere neither nor";

/// Portuguese words that negate what follows.
pub(super) const NEGATORS_PT: &str = "não nunca nem jamais nada nenhum nenhuma ninguém";

/// Words that flip the sentiment of what follows but say nothing on their own
/// ("works without errors", "sem problemas"); they are stopwords for topics.
pub(super) const SOFT_NEGATORS: &[&str] = &["without", "hardly", "barely", "sem"];

/// Multipliers for the next sentiment word; below 1 they soften it.
pub(super) const INTENSIFIERS: &[(&str, f64)] = &[
    ("very", 1.5),
    ("really", 1.5),
    ("super", 1.5),
    ("so", 1.4),
    ("too", 1.4),
    ("extremely", 1.8),
    ("incredibly", 1.8),
    ("insanely", 1.8),
    ("totally", 1.5),
    ("completely", 1.5),
    ("absolutely", 1.6),
    ("highly", 1.5),
    ("truly", 1.4),
    ("such", 1.3),
    ("pretty", 1.2),
    ("quite", 1.2),
    ("painfully", 1.6),
    ("fairly", 0.8),
    ("rather", 0.8),
    ("somewhat", 0.6),
    ("slightly", 0.5),
    ("bit", 0.6),
    ("little", 0.6),
    ("kinda", 0.6),
    ("muito", 1.5),
    ("muita", 1.5),
    ("tão", 1.4),
    ("bem", 1.3),
    ("bastante", 1.4),
    ("extremamente", 1.8),
    ("totalmente", 1.5),
    ("completamente", 1.5),
    ("absurdamente", 1.8),
    ("mega", 1.6),
    ("meio", 0.6),
    ("pouco", 0.6),
    ("levemente", 0.5),
    ("ligeiramente", 0.5),
];

/// Intensifiers that follow the word they strengthen ("caro demais").
pub(super) const POST_INTENSIFIERS: &[(&str, f64)] = &[("demais", 1.6)];

/// Words after which the writer's real opinion comes ("good, but slow").
pub(super) const CONTRAST: &[&str] =
    &["but", "however", "although", "mas", "porém", "contudo", "entretanto", "todavia"];

/// Word sequences that mean one concept, replaced by a single word before
/// anything else looks at them. Matched on folded words, stopwords included.
pub(super) const PHRASES: &[(&[&str], &str)] = &[
    (&["log", "in"], "login"),
    (&["logged", "in"], "login"),
    (&["sign", "in"], "login"),
    (&["signed", "in"], "login"),
    (&["log", "out"], "logout"),
    (&["sign", "out"], "logout"),
    (&["sign", "up"], "signup"),
    (&["signed", "up"], "signup"),
    (&["set", "up"], "setup"),
    (&["nota", "fiscal"], "invoice"),
    (&["cartão", "de", "crédito"], "card"),
    (&["credit", "card"], "card"),
    (&["right", "away"], "immediately"),
    (&["straight", "away"], "immediately"),
    (&["na", "hora"], "immediately"),
    (&["de", "novo"], "again"),
    (&["duas", "vezes"], "twice"),
    (&["toda", "hora"], "again"),
    (&["timed", "out"], "timeout"),
    (&["time", "out"], "timeout"),
    (&["fora", "do", "ar"], "outage"),
    (&["vale", "a", "pena"], "vale"),
    (&["pop", "up"], "popup"),
    (&["a", "bit"], "bit"),
    (&["a", "little"], "little"),
    (&["kind", "of"], "kinda"),
    (&["sort", "of"], "kinda"),
    (&["um", "pouco"], "pouco"),
];
