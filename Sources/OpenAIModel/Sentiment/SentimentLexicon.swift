extension SentimentAnalyzer {
    /// What the scorer knows about one word.
    struct WordEntry: Sendable, Equatable {
        /// Sentiment weight, -3...+3; 0 for none.
        var weight: Int8 = 0
        /// Multiplier for the next sentiment word: above 1 intensifies,
        /// below 1 dampens; 1 for none.
        var boost: Double = 1
        /// Flips the sentiment words after it.
        var isNegator = false
        /// "but", "however".
        var isContrast = false
        /// Counts only after a subject or adverb ("I like", not "looks like").
        var needsSubject = false
    }

    /// What a multi-word phrase does when it matches.
    enum PhraseAction: Sendable, Equatable {
        /// A sentiment weight for the whole phrase; 0 makes it neutral.
        case weight(Int8)
        /// Intensifies or dampens like a single intensifier.
        case boost(Double)
        /// Negates like a single negator.
        case negator
    }

    /// An ASCII emoticon.
    struct Emoticon: Sendable {
        var scalars: [Unicode.Scalar]
        var weight: Int8
        /// Must not follow a letter or digit ("<3" but not "x<3").
        var standsAlone: Bool
    }

    // MARK: - Sentiment words

    /// Sentiment words by weight, space separated, all lower case.
    static let lexiconGroups: [(weight: Int8, words: String)] = [
        (3, """
        excellent excellently amazing awesome wonderful fantastic outstanding superb superbly
        brilliant brilliantly magnificent marvelous marvellous terrific phenomenal spectacular
        exceptional extraordinary incredible perfect perfection flawless exquisite sublime
        stellar splendid glorious breathtaking stunning great greatest best love loved loves
        adore adored adores delighted delightful thrilled ecstatic overjoyed elated euphoric
        masterpiece impeccable fabulous gorgeous joy joyful bliss blissful triumph triumphant
        wonderfully delicious scrumptious dazzling mindblowing happiest amazingly fantastically
        phenomenally
        """),
        (2, """
        good nice lovely happy glad pleased enjoy enjoyed enjoys enjoying enjoyable enjoyment
        like likes liked fun beautiful beautifully cute pleasant helpful useful valuable
        recommend recommended recommends impressive impressed thanks thank thanked thankful
        grateful gratitude appreciate appreciated appreciates appreciative satisfied satisfying
        success successes successful successfully succeed succeeded win won winner winning wins
        victory yay hooray hurray woohoo congrats congratulations bravo kudos kind kindness
        generous generosity friendly smart clever intelligent talented skilled skillful elegant
        charming sweet comfortable comforting cozy cosy peaceful relaxing healthy hopeful
        optimistic positive proud confident inspiring inspired inspiration excited exciting
        fascinating entertaining hilarious smile smiling smiled smiles cheerful paradise
        favorite favourite favorites favourites cherish cherished treasure treasured worthwhile
        better beneficial seamless intuitive luxurious fortunate lucky blessed blessing miracle
        magical celebrate celebrated celebration praise praised honored honoured admire admired
        admirable honest honesty loyal brave courageous heroic hero genius wise creative
        innovative remarkable superior ideal pleasing pleasure glee gleeful supportive caring
        compassionate affection affectionate lovable loveable adorable beloved harmony peace
        happily thankfully tasty yummy yum flavorful wholesome stylish attractive handsome
        glamorous radiant epic legendary champion accomplished achievement achieved promising
        prosperous thrive thriving thrived flourish flourishing rewarding graceful gracious
        considerate integrity happiness happier nicer nicest finest heavenly divine loving
        enthusiastic passionate vibrant refreshing helped perfectly super unbeatable delight
        excellence fond lmao rofl
        """),
        (1, """
        cool fine decent solid interesting engaging funny laugh laughing laughed amused amusing
        lol haha hahaha hehe xd wow hope hopes hoped hopefully fortunately luckily welcome fair
        accurate precise correct reliable robust efficient effective strong powerful fresh clean
        calm relaxed safe secure motivated worth worthy improved improvement improve improves
        improving upgrade upgraded benefit benefits advantage bonus easy easier smooth convenient
        handy neat polished professional premium luxury respect respected trust trusted wisdom
        keen eager lively energetic progress reward polite courteous respectful acceptable
        satisfactory contented gentle warm warmth friendship cheers magic fixed solved resolved
        helps pretty support comfort soothing stable affordable legit pleasantly proudly merit
        merits
        """),
        (-1, """
        sadly sorry worry nervous stress bored dull tired exhausted weak mediocre dirty messy
        mess flawed flaw glitch error errors mistake mistakes problem problems issues bugs trouble
        difficult complicated confusing confused slow sluggish expensive silly jealous envious
        aggressive risky ache tears scream complain complaint complaints complained whine lose
        lost losing ignored lazy clumsy awkward unstable inaccurate incorrect outdated obsolete
        insufficient meh boo alas cynical sour fault doubt doubts worries shabby damn concern
        concerned hesitant doubtful skeptical sceptical uncertain unsure downside drawback
        drawbacks inconvenient inconvenience delay delayed missing missed tough struggle
        overwhelmed sigh oops clunky janky flimsy broke shocking shocked naive naïve
        """),
        (-2, """
        bad badly worse poor poorly sad sadness unhappy upset disappointed disappointing
        disappointment disappoint dissatisfied unsatisfied frustrated frustrating frustration
        annoyed annoying irritating irritated angry anger mad bitter resent resentful lonely
        boring tedious tiresome exhausting inferior subpar lousy lame ugly gross nasty filthy
        broken damaged damage defective faulty buggy glitchy crash crashed crashes crashing fail
        fails failed failing failure failures wrong problematic troubled troublesome overpriced
        waste wasted wasteful pointless meaningless stupid idiot idiotic dumb foolish ridiculous
        absurd nonsense rubbish junk fake lie lies lied dishonest cheat cheated cheating steal
        stole stolen corrupt corruption rude hostile violent violence attack attacked threat
        threatened dangerous danger harmful harm hurt hurts hurting pain painful sick ill illness
        disease injured injury wound wounded suffer suffering suffered victim cry crying cried
        weep sob chaos chaotic crisis war enemy unfair unjust injustice unfortunate
        unfortunately unlucky misfortune doom ruin destroy wreck wrecked loss loser neglected
        rejected rejection insult insulting offensive offended disrespectful arrogant selfish
        greedy careless incompetent unpleasant uncomfortable unhelpful unreliable inadequate hell
        dammit wtf ugh yuck eww negative pessimistic gloomy grim bleak dismal harsh brutal toxic
        poisonous deadly fatal lethal criminal crime guilty blame blamed helpless powerless sucks
        suck sucked sucky crappy crap shit garbage trash pathetic useless outrageous inexcusable
        unacceptable shameful shame ashamed embarrassing embarrassed depressing depression grief
        grieving mourning sorrow scary scared afraid fear fears feared frightened frightening
        anxious anxiety worried worrying panic stressed stressful regret regrets regretted death
        dead died dying kill killed kills struggling struggled messed screwed dislike disliked
        dislikes cringe cringy sloppy shoddy bankrupt poverty abandoned cursed sinister creepy
        disturbing disturbed upsetting awfully terribly horribly
        """),
        (-3, """
        awful terrible horrible horrific horrifying horrendous atrocious abysmal dreadful
        appalling disgusting disgusted disgust revolting repulsive vile despicable hideous
        heinous abominable horrid hate hated hates hating hateful loathe loathed loathes loathing
        detest detested abhor worst disaster disasters disastrous catastrophe catastrophic tragic
        tragedy devastating devastated nightmare heartbroken heartbreaking miserable furious
        enraged livid outraged worthless shitty evil cruel abuse abusive murder murdered suicide
        torture tortured agony agonizing excruciating unbearable intolerable disgraceful
        humiliating humiliated depressed despair hopeless anguish terrified terrifying horrified
        rage fraud scam liar betray betrayed betrayal doomed ruined destroyed sickening fiasco
        """),
    ]

    // MARK: - Modifiers

    /// Intensifiers (> 1) and dampeners (< 1). A word that also has a
    /// lexicon weight intensifies only right before a sentiment word.
    static let boosters: [(word: String, factor: Double)] = [
        ("very", 1.5), ("really", 1.5), ("so", 1.5), ("extremely", 2), ("incredibly", 2),
        ("absolutely", 1.75), ("quite", 1.25), ("totally", 1.75), ("truly", 1.5),
        ("super", 1.75), ("highly", 1.5), ("deeply", 1.5), ("most", 1.5), ("too", 1.25),
        ("utterly", 2), ("completely", 1.75), ("entirely", 1.5), ("especially", 1.5),
        ("exceptionally", 2), ("particularly", 1.3), ("remarkably", 1.75), ("seriously", 1.5),
        ("insanely", 2), ("ridiculously", 1.75), ("unbelievably", 2), ("thoroughly", 1.5),
        ("enormously", 1.75), ("hugely", 1.75), ("immensely", 1.75), ("tremendously", 1.75),
        ("terribly", 1.75), ("awfully", 1.5), ("horribly", 1.75), ("damn", 1.5),
        ("freaking", 1.5), ("fucking", 1.75), ("pretty", 1.25), ("such", 1.5),
        ("amazingly", 1.75), ("wonderfully", 1.5), ("perfectly", 1.5), ("greatly", 1.5),
        ("fully", 1.25), ("genuinely", 1.5), ("definitely", 1.25), ("certainly", 1.25),
        ("exceedingly", 2), ("overly", 1.5), ("excessively", 1.5), ("supremely", 2),
        ("wildly", 1.5), ("crazy", 1.5), ("more", 1.25), ("much", 1.25),
        ("fantastically", 1.75), ("phenomenally", 1.75), ("extraordinarily", 2),
        ("slightly", 0.5), ("somewhat", 0.6), ("kinda", 0.6), ("sorta", 0.6), ("fairly", 0.75),
        ("rather", 0.8), ("mildly", 0.5), ("marginally", 0.5), ("partly", 0.6),
        ("partially", 0.6), ("moderately", 0.7), ("reasonably", 0.8), ("less", 0.5),
        ("almost", 0.7), ("relatively", 0.75),
    ]

    /// Words that negate the sentiment words after them. Any other word
    /// ending in "n't" negates too.
    static let negatorWords = """
        not no never none nobody nothing neither nor nowhere without hardly barely scarcely
        seldom rarely cannot lack lacks lacked lacking dont doesnt didnt isnt arent wasnt werent
        wont cant couldnt shouldnt wouldnt havent hasnt hadnt mustnt neednt aint
        """

    /// Words after which "like" means liking rather than similarity.
    static let likeContext: Set<String> = [
        "i", "we", "you", "they", "he", "she", "really", "truly", "do", "does", "did",
        "don't", "doesn't", "didn't", "dont", "doesnt", "didnt", "not", "never", "also",
        "just", "actually", "definitely", "totally", "absolutely", "still", "always", "so",
        "kinda", "genuinely", "especially", "quite", "sincerely",
    ]

    // MARK: - Phrases

    /// Multi-word phrases, words separated by one space. Read before the
    /// words they are made of; the longest match wins. Phrases holding an
    /// apostrophe also match without it ("cant wait").
    static let phraseList: [(phrase: String, action: PhraseAction)] = [
        // Greetings, sign-offs and idioms that only look like sentiment.
        ("good bye", .weight(0)), ("good night", .weight(0)), ("good morning", .weight(0)),
        ("good afternoon", .weight(0)), ("good evening", .weight(0)), ("for good", .weight(0)),
        ("oh my god", .weight(0)), ("pretty much", .weight(0)), ("so so", .weight(0)),
        ("kind regards", .weight(0)), ("best regards", .weight(0)), ("warm regards", .weight(0)),
        ("warmest regards", .weight(0)), ("best wishes", .weight(0)),
        ("no thanks", .weight(0)), ("no thank you", .weight(0)),
        ("not only", .weight(0)), ("not just", .weight(0)), ("no matter", .weight(0)),
        ("never mind", .weight(0)), ("no doubt", .weight(1)),
        // Fixed positive and negative expressions.
        ("well done", .weight(2)), ("top notch", .weight(3)), ("no problem", .weight(1)),
        ("no worries", .weight(1)), ("not bad at all", .weight(2)),
        ("couldn't be happier", .weight(3)), ("could not be happier", .weight(3)),
        ("couldn't be better", .weight(3)), ("could not be better", .weight(3)),
        ("couldn't be worse", .weight(-3)), ("could not be worse", .weight(-3)),
        ("can't complain", .weight(1)), ("cannot complain", .weight(1)),
        ("can't wait", .weight(2)), ("cannot wait", .weight(2)),
        ("never been better", .weight(3)), ("never felt better", .weight(3)),
        ("never been happier", .weight(3)), ("can't stand", .weight(-2)),
        ("cannot stand", .weight(-2)),
        ("look forward", .weight(2)), ("looking forward", .weight(2)),
        ("thumbs up", .weight(2)), ("thumbs down", .weight(-2)),
        ("fed up", .weight(-2)), ("let down", .weight(-2)), ("let me down", .weight(-2)),
        ("falls short", .weight(-2)), ("fall short", .weight(-2)), ("fell short", .weight(-2)),
        ("screwed up", .weight(-2)), ("messed up", .weight(-2)),
        ("to die for", .weight(3)), ("killing it", .weight(2)), ("killed it", .weight(2)),
        ("nailed it", .weight(2)), ("waste of time", .weight(-3)), ("waste of money", .weight(-3)),
        // Dampeners, intensifiers and negators of more than one word.
        ("a bit", .boost(0.6)), ("a little", .boost(0.6)), ("a little bit", .boost(0.5)),
        ("a tad", .boost(0.6)), ("kind of", .boost(0.6)), ("sort of", .boost(0.6)),
        ("by far", .boost(1.5)), ("far from", .negator),
        // "never been so happy" means very happy, not unhappy.
        ("never been so", .boost(1.75)), ("never felt so", .boost(1.75)),
        ("never been more", .boost(1.75)), ("never felt more", .boost(1.75)),
        ("never seen such", .boost(1.75)),
    ]

    // MARK: - Emoji and emoticons

    /// Emoji by scalar value. Variation selectors and skin tones that may
    /// follow are ignored as separators.
    static let emoji: [UInt32: Int8] = [
        // positive
        0x1F600: 2, 0x1F603: 2, 0x1F604: 2, 0x1F601: 2, 0x1F606: 2, 0x1F60A: 2, 0x1F642: 1,
        0x1F609: 1, 0x1F60D: 3, 0x1F970: 3, 0x1F618: 2, 0x1F602: 1, 0x1F923: 1, 0x1F60E: 1,
        0x1F929: 3, 0x1F607: 2, 0x1F44D: 2, 0x1F44F: 2, 0x1F64C: 2, 0x1F389: 2, 0x1F973: 2,
        0x2764: 2, 0x1F495: 2, 0x1F496: 2, 0x1F497: 2, 0x1F499: 2, 0x1F49A: 2, 0x1F49B: 2,
        0x1F49C: 2, 0x1F9E1: 2, 0x263A: 2, 0x1F4AF: 2, 0x1F44C: 1, 0x1F60B: 2, 0x1F917: 2,
        0x1F60C: 1,
        // negative
        0x1F641: -1, 0x2639: -2, 0x1F61E: -2, 0x1F61F: -2, 0x1F622: -2, 0x1F62D: -2,
        0x1F620: -2, 0x1F621: -3, 0x1F92C: -3, 0x1F44E: -2, 0x1F494: -2, 0x1F612: -1,
        0x1F614: -2, 0x1F629: -2, 0x1F62B: -2, 0x1F624: -2, 0x1F623: -2, 0x1F616: -2,
        0x1F92E: -3, 0x1F922: -2, 0x1F630: -2, 0x1F628: -2, 0x1F631: -2, 0x1F625: -1,
        0x1F613: -1, 0x1F615: -1, 0x1F644: -1,
    ]

    /// ASCII emoticons as they look after lower-casing (":D" is ":d"),
    /// longest first.
    static let emoticons: [Emoticon] = {
        let list: [(String, Int8, Bool)] = [
            (":'-(", -2, false), (":’-(", -2, false), ("</3", -2, true),
            (":-)", 2, false), (":-]", 2, false), (":-d", 2, false), (";-)", 1, false),
            (":-p", 1, false), (":-(", -2, false), (":-[", -2, false),
            (":'(", -2, false), (":’(", -2, false),
            (":)", 2, false), (":]", 2, false), (":d", 2, false), (";)", 1, false),
            (":p", 1, false), ("=)", 2, true), ("<3", 2, true),
            (":(", -2, false), (":[", -2, false), ("=(", -2, true),
        ]
        return list.map { Emoticon(scalars: Array($0.0.unicodeScalars), weight: $0.1, standsAlone: $0.2) }
    }()

    // MARK: - Built tables

    /// Splits a word list on spaces and line breaks.
    static func words(_ list: String) -> [String] {
        list.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { String($0).lowercased() }
    }

    /// Sentiment weight of every lexicon word.
    static let lexicon: [String: Int8] = {
        var table: [String: Int8] = [:]
        table.reserveCapacity(1200)
        for group in lexiconGroups {
            for w in words(group.words) { table[w] = group.weight }
        }
        return table
    }()

    /// Every word the scorer treats specially, built once.
    static let wordTable: [String: WordEntry] = {
        var table: [String: WordEntry] = [:]
        table.reserveCapacity(1400)
        for (w, weight) in lexicon { table[w, default: WordEntry()].weight = weight }
        for b in boosters { table[b.word, default: WordEntry()].boost = b.factor }
        for w in words(negatorWords) { table[w, default: WordEntry()].isNegator = true }
        for w in ["but", "however"] { table[w, default: WordEntry()].isContrast = true }
        table["like", default: WordEntry()].needsSubject = true
        return table
    }()

    /// Phrases keyed by their words joined with single spaces.
    static let phrases: [String: PhraseAction] = {
        var table: [String: PhraseAction] = [:]
        for p in phraseList {
            table[p.phrase] = p.action
            if p.phrase.contains("'") {
                table[String(p.phrase.filter { $0 != "'" })] = p.action
            }
        }
        return table
    }()

    /// For each first word of a phrase, the most words a phrase starting
    /// with it has.
    static let phraseMaxLength: [String: Int] = {
        var table: [String: Int] = [:]
        for key in phrases.keys {
            let parts = key.split(separator: " ")
            guard let first = parts.first else { continue }
            table[String(first)] = max(table[String(first)] ?? 0, parts.count)
        }
        return table
    }()
}
