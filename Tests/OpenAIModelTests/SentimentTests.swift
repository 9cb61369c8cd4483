import Testing
@testable import OpenAIModel

struct SentimentCase: Sendable, CustomTestStringConvertible {
    let text: String
    let expected: Sentiment
    init(_ text: String, _ expected: Sentiment) {
        self.text = text
        self.expected = expected
    }
    var testDescription: String { "\(text.debugDescription) → \(expected.rawValue)" }
}

private let labelledSentences: [SentimentCase] = [
    // Plain positive.
    SentimentCase("This is good.", .positive),
    SentimentCase("What a great day", .positive),
    SentimentCase("I love this library", .positive),
    SentimentCase("The results are excellent", .positive),
    SentimentCase("Thanks, that was really helpful!", .positive),
    SentimentCase("I'm happy with it", .positive),
    SentimentCase("What a kind gesture", .positive),
    SentimentCase("The cake was to die for", .positive),
    // Plain negative.
    SentimentCase("This is bad.", .negative),
    SentimentCase("What a terrible idea", .negative),
    SentimentCase("I hate waiting", .negative),
    SentimentCase("The service was awful", .negative),
    SentimentCase("I'm sad and angry", .negative),
    SentimentCase("It crashed again and I lost my work", .negative),
    // Plain neutral.
    SentimentCase("The meeting is at 3 pm.", .neutral),
    SentimentCase("Please send me the report.", .neutral),
    SentimentCase("The cat sat on the mat", .neutral),
    SentimentCase("It looks like rain", .neutral),
    SentimentCase("Kind regards, Bob", .neutral),
    SentimentCase("Good morning, team", .neutral),
    // The original's substring false positives.
    SentimentCase("I got a new badge", .neutral),
    SentimentCase("She said goodbye", .neutral),
    SentimentCase("We played badminton", .neutral),
    SentimentCase("Good-bye, see you tomorrow", .neutral),
    SentimentCase("good bye", .neutral),
    SentimentCase("The badger ate the goodies", .neutral),
    SentimentCase("Sadly, it didn't work", .negative),
    // Negation of each kind.
    SentimentCase("This is not good", .negative),
    SentimentCase("It isn't bad", .positive),
    SentimentCase("I don't like it", .negative),
    SentimentCase("I do not like it", .negative),
    SentimentCase("I was never happy there", .negative),
    SentimentCase("No good will come of this", .negative),
    SentimentCase("There is nothing great about it", .negative),
    SentimentCase("I am hardly happy", .negative),
    SentimentCase("It ran without problems", .positive),
    SentimentCase("I can’t say I’m happy", .negative),
    SentimentCase("I’m not happy", .negative),
    SentimentCase("It ain't good", .negative),
    SentimentCase("It wasnt great", .negative),
    SentimentCase("not bad at all", .positive),
    SentimentCase("Not good, great!", .positive),
    SentimentCase("It is not. Good stuff though", .positive),
    SentimentCase("not without problems", .negative),
    SentimentCase("It's not only good but great", .positive),
    SentimentCase("No problem at all", .positive),
    SentimentCase("far from perfect", .negative),
    SentimentCase("I couldn't be happier", .positive),
    SentimentCase("I can't wait to see it", .positive),
    SentimentCase("I don't think it's bad", .positive),
    SentimentCase("No, it's great", .positive),
    SentimentCase("not one two three four good", .positive),
    SentimentCase("I have never been so happy", .positive),
    SentimentCase("I have never felt so let down", .negative),
    SentimentCase("I can't stand it", .negative),
    // Intensifiers and dampeners.
    SentimentCase("very good", .positive),
    SentimentCase("extremely disappointing", .negative),
    SentimentCase("slightly annoying", .negative),
    SentimentCase("a bit disappointing", .negative),
    SentimentCase("kind of nice", .positive),
    SentimentCase("pretty bad", .negative),
    SentimentCase("She is pretty", .positive),
    SentimentCase("terribly sorry", .negative),
    SentimentCase("sooo goooood", .positive),
    // "but" moves the weight to the clause after it.
    SentimentCase("The food was bad but the service was great", .positive),
    SentimentCase("The screen is great but the battery is terrible", .negative),
    SentimentCase("It looks nice, but it is slow", .negative),
    // Ties and nothing found.
    SentimentCase("good and bad", .neutral),
    SentimentCase("I love it and I hate it", .neutral),
    SentimentCase("It was good. It was bad.", .neutral),
    SentimentCase("", .neutral),
    SentimentCase("   \t\n  ", .neutral),
    SentimentCase("?!.,;:...---", .neutral),
    SentimentCase("!!!", .neutral),
    // Upper and mixed case.
    SentimentCase("THIS IS GREAT", .positive),
    SentimentCase("Good", .positive),
    SentimentCase("I HATE MONDAYS", .negative),
    SentimentCase("NOT GOOD", .negative),
    SentimentCase("WoNdErFuL", .positive),
    // Unicode: non-English is neutral; accents stay inside words.
    SentimentCase("Das ist ein Haus", .neutral),
    SentimentCase("これはペンです", .neutral),
    SentimentCase("Привет, как дела?", .neutral),
    SentimentCase("مرحبا بالعالم", .neutral),
    SentimentCase("Ünïcödé wörds only", .neutral),
    SentimentCase("Le café était excellent", .positive),
    SentimentCase("That was NAÏVE of me", .negative),
    SentimentCase("na\u{0069}\u{0308}ve", .negative),
    SentimentCase("goodé", .neutral),
    // Emoji, emoticons and odd strings.
    SentimentCase("🙂", .positive),
    SentimentCase("😞", .negative),
    SentimentCase("Thanks 👍", .positive),
    SentimentCase("❤️", .positive),
    SentimentCase(":)", .positive),
    SentimentCase(":(", .negative),
    SentimentCase("see you :-D", .positive),
    SentimentCase("<3", .positive),
    SentimentCase("ok 🙂 but 😞", .negative),
    SentimentCase("re:do the http://example.com/path at 10:30", .neutral),
    SentimentCase("🏳️‍🌈👨‍👩‍👧", .neutral),
    SentimentCase("good\u{0}bad", .neutral),
    SentimentCase("good\u{0}", .positive),
    SentimentCase("\u{0}\u{1}\u{7F}\u{1B}[0m", .neutral),
    SentimentCase("\u{FEFF}great\u{200B}", .positive),
    SentimentCase("\u{301}\u{301}\u{301}", .neutral),
    SentimentCase("\u{FFFD}\u{FFFF}\u{10FFFF}", .neutral),
]

@Test(arguments: labelledSentences)
func sentimentClassifiesSentence(_ c: SentimentCase) {
    #expect(SentimentAnalyzer.classify(c.text) == c.expected)
}

@Test func sentimentHasEnoughLabelledSentences() {
    #expect(labelledSentences.count >= 60)
}

@Test func sentimentIntensifiersOrderScores() {
    let extremely = SentimentAnalyzer.score("extremely good")
    let very = SentimentAnalyzer.score("very good")
    let plain = SentimentAnalyzer.score("good")
    let slightly = SentimentAnalyzer.score("slightly good")
    #expect(extremely > very)
    #expect(very > plain)
    #expect(plain > slightly)
    #expect(slightly > 0)
    #expect(SentimentAnalyzer.score("so very good") > very)
    #expect(SentimentAnalyzer.score("very bad") < SentimentAnalyzer.score("bad"))
    #expect(SentimentAnalyzer.score("a little bit bad") > SentimentAnalyzer.score("bad"))
}

@Test func sentimentStrongWordsOutweighMildOnes() {
    #expect(SentimentAnalyzer.score("excellent") > SentimentAnalyzer.score("fine"))
    #expect(SentimentAnalyzer.score("awful") < SentimentAnalyzer.score("mediocre"))
    #expect(SentimentAnalyzer.classify("fine but awful") == .negative)
    #expect(SentimentAnalyzer.classify("excellent and a bit slow") == .positive)
}

@Test func sentimentNegationFlipsAndDampens() {
    let good = SentimentAnalyzer.score("good")
    let notGood = SentimentAnalyzer.score("not good")
    #expect(notGood < 0)
    #expect(-notGood < good)
    #expect(SentimentAnalyzer.score("not bad") > 0)
    #expect(SentimentAnalyzer.score("not very good") < notGood)
    // The window: three words after the negator, no more.
    #expect(SentimentAnalyzer.score("not at all good") < 0)
    #expect(SentimentAnalyzer.score("not one two three good") > 0)
    // Punctuation and "but" end it.
    #expect(SentimentAnalyzer.score("not; good") > 0)
    #expect(SentimentAnalyzer.score("nothing but good") > 0)
}

@Test func sentimentContrastShiftsWeight() {
    #expect(SentimentAnalyzer.score("good but bad") < 0)
    #expect(SentimentAnalyzer.score("bad but good") > 0)
    // "however" acts the same way within its sentence.
    #expect(SentimentAnalyzer.classify("It is great, however it is too slow and buggy") == .negative)
    // A new sentence starts at plain weight again.
    #expect(SentimentAnalyzer.score("bad but good. good") == SentimentAnalyzer.score("bad but good") + 2)
}

@Test func sentimentTokenizerKeepsWordsWhole() {
    typealias T = SentimentAnalyzer.Token
    #expect(SentimentAnalyzer.tokenize("Don’t STOP, café-au-lait!")
        == [T.word("don't"), .word("stop"), .clauseBreak, .word("café"), .word("au"), .word("lait"),
            .sentenceBreak])
    #expect(SentimentAnalyzer.tokenize("'quoted' students' it's") == [.word("quoted"), .word("students"), .word("it's")])
    #expect(SentimentAnalyzer.tokenize("yes - no") == [.word("yes"), .clauseBreak, .word("no")])
    #expect(SentimentAnalyzer.tokenize("hi :) x<3 ;-)") == [.word("hi"), .symbol(2), .word("x"), .word("3"), .symbol(1)])
    #expect(SentimentAnalyzer.tokenize("").isEmpty)
}

@Test func sentimentLexiconIsLargeAndWellFormed() {
    let lexicon = SentimentAnalyzer.lexicon
    #expect(lexicon.count >= 600)
    #expect(lexicon.values.contains { $0 > 0 })
    #expect(lexicon.filter { $0.value > 0 }.count >= 250)
    #expect(lexicon.filter { $0.value < 0 }.count >= 250)
    #expect(lexicon["excellent"] == 3)
    #expect(lexicon["fine"] == 1)
    #expect(lexicon["awful"] == -3)
    // Every word is listed once, lower case, with a weight in -3...3.
    var seen: Set<String> = []
    for group in SentimentAnalyzer.lexiconGroups {
        #expect((-3...3).contains(group.weight) && group.weight != 0)
        for w in SentimentAnalyzer.words(group.words) {
            #expect(!seen.contains(w), "\(w) is listed twice")
            seen.insert(w)
            #expect(w == w.lowercased())
        }
    }
    // Nothing is both a negator and a sentiment word.
    for w in SentimentAnalyzer.words(SentimentAnalyzer.negatorWords) {
        #expect(lexicon[w] == nil, "\(w)")
    }
}

@Test func sentimentHandlesVeryLongInput() {
    let sentence = "The service was great, not bad at all, though the badge was ugly. "
    var text = ""
    text.reserveCapacity(1_100_000)
    while text.utf8.count < 1_000_000 { text += sentence }
    #expect(SentimentAnalyzer.classify(text) == .positive)

    // One huge word, one huge run of punctuation, one huge run of emoji.
    #expect(SentimentAnalyzer.classify(String(repeating: "a", count: 1_000_000)) == .neutral)
    #expect(SentimentAnalyzer.classify(String(repeating: "o", count: 1_000_000)) == .neutral)
    #expect(SentimentAnalyzer.classify(String(repeating: ".,", count: 500_000)) == .neutral)
    #expect(SentimentAnalyzer.classify(String(repeating: "😞", count: 250_000)) == .negative)
    // Stacked intensifiers stay bounded.
    let stacked = String(repeating: "very ", count: 200_000) + "good"
    #expect(SentimentAnalyzer.score(stacked) <= 2 * SentimentAnalyzer.maxBoost)
}

@Test func sentimentSurvivesRandomScalars() {
    // A fixed linear congruential generator: the same strings every run.
    var state: UInt64 = 0x5EED
    func next() -> UInt32 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt32(truncatingIfNeeded: state >> 33)
    }
    let pieces: [String] = ["not", "good", "bad", "very", "but", "'", "’", "-", ":", ")", "(", "<3", " ", ".", "\u{0}"]
    for _ in 0..<500 {
        var s = String.UnicodeScalarView()
        let length = Int(next() % 40)
        for _ in 0..<length {
            let r = next()
            if r % 3 == 0 {
                s.append(contentsOf: pieces[Int(r / 3) % pieces.count].unicodeScalars)
            } else if let scalar = Unicode.Scalar(r % 0x11_0000) {
                s.append(scalar)
            }
        }
        let text = String(s)
        let label = SentimentAnalyzer.classify(text)
        let score = SentimentAnalyzer.score(text)
        #expect(score.isFinite)
        let eps = SentimentAnalyzer.epsilon
        #expect(label == (score > eps ? .positive : score < -eps ? .negative : .neutral))
    }
}

@Test func sentimentRawValues() {
    #expect(Sentiment.positive.rawValue == "positive")
    #expect(Sentiment.negative.rawValue == "negative")
    #expect(Sentiment(rawValue: "neutral") == .neutral)
}
