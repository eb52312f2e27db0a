package speech

// digitWords are spoken in every voice; index i says digit i.
var digitWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// otherTexts are the other words and phrases, each spoken by a share of
// the voices: numbers, directions, colours, commands, the Moving-digits
// caption vocabulary and everyday words. No entry starts with '-' (it would
// read as an espeak-ng option) and none repeats.
var otherTexts = []string{
	// numbers
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
	"seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty",
	"sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "first",
	"second", "third", "last", "twenty one", "forty two", "ninety nine",
	"one hundred",
	// directions and motion
	"left", "right", "up", "down", "forward", "backward", "north", "south",
	"east", "west", "up left", "up right", "down left", "down right", "across",
	"around", "away", "toward", "diagonal", "straight", "sideways", "centre",
	"corner", "top", "bottom", "middle", "move", "moves", "moving", "drift",
	"drifts", "bounce", "bounces", "slide", "slides", "slowly", "quickly",
	"fast", "slow",
	// colours
	"red", "green", "blue", "yellow", "black", "white", "orange", "purple",
	"pink", "brown", "grey", "gold", "silver",
	// commands
	"yes", "no", "stop", "go", "on", "off", "start", "open", "close", "wait",
	"run", "jump", "turn", "play", "pause", "next", "back", "again", "help",
	"cancel", "repeat", "louder", "quieter", "faster", "slower", "select",
	"show", "hide", "save", "delete",
	// shapes and sizes
	"circle", "square", "triangle", "line", "dot", "star", "big", "small",
	"large", "tiny", "long", "short", "high", "low", "wide", "narrow",
	// Moving-digits captions and questions
	"digit", "digits", "number", "numbers", "video", "frame", "image",
	"picture", "sound", "voice", "word", "answer", "question", "what", "where",
	"when", "who", "why", "how", "which",
	// everyday words
	"cat", "dog", "bird", "fish", "horse", "cow", "sheep", "mouse", "lion",
	"tiger", "bear", "frog", "house", "car", "tree", "book", "door", "window",
	"table", "chair", "ball", "cup", "phone", "clock", "water", "bread",
	"apple", "milk", "sun", "moon", "rain", "snow", "wind", "fire", "hot",
	"cold", "new", "old", "good", "bad", "happy", "sad", "today", "tomorrow",
	"yesterday", "morning", "evening", "night", "day", "week", "month",
	"year", "man", "woman", "boy", "girl", "friend", "mother", "father",
	"look", "see", "find", "take", "give", "make", "read", "write", "speak",
	"listen", "learn", "hello", "goodbye", "please", "sorry", "okay",
	"maybe", "always", "never",
	// phrases
	"turn left", "turn right", "go up", "go down", "move left", "move right",
	"move up", "move down", "go forward", "go back", "come back", "stop now",
	"start again", "open the door", "close the window", "what digit was said",
	"what number is this", "which way does it move", "the digit seven",
	"the number three", "a seven moves left", "a two drifts slowly to the right",
	"the digits three and eight", "two digits bounce around",
	"a four moves up quickly", "count to ten", "one two three",
	"four five six", "seven eight nine", "red and blue", "black and white",
	"left and right", "up and down", "good morning", "good night", "thank you",
	"see you later", "how are you", "I am fine", "yes please", "no thanks",
	"very fast", "very slow", "the red ball", "a big dog", "a small cat",
	"the green tree", "press play", "pause the video", "next one",
	"say it again", "listen carefully", "turn it off", "turn it on",
	"where is it", "it is here", "over there", "not now", "right away",
	"one more time", "all done",
}
