"""A pure-Python equivalent of Stanford's PTBTokenizer, as pycocoevalcap runs it.

:func:`python_tokenize` reproduces, in pure Python, the CoreNLP 3.4.1 ``PTBLexer`` with the
options of the command line above, then lower-cases and drops the same punctuation. The lexer's
default PTB3 normalisation is kept: round, square and curly brackets become ``-LRB-``/``-RRB-``,
``-LSB-``/``-RSB-``, ``-LCB-``/``-RCB-``; straight and curly quotes become LaTeX-style quotes
(two backticks or two apostrophes for double quotes); ellipses become ``...``; en and em dashes
and runs of 3-4 hyphens become ``--``; ``&amp;`` becomes ``&``; the characters for 1/4, 1/2,
3/4, 1/3 and 2/3 are spelled out; cent, pound and euro signs become ``cents``, ``#`` and ``$``;
``cannot``, ``gonna``, ``'tis`` and the like are split; clitics are split off (``do n't``,
``man 's``); phone numbers, fractions such as ``1 1/2`` and SGML tags keep a non-breaking space
inside one token; there is no Americanisation. Like the jar it lexes the whole joined file, so
context that crosses a line break (``A.`` ending one caption before a caption that starts with
``The``) is honoured. The rules follow CoreNLP's ``PTBLexer.flex`` and were checked against the
3.4.1 jar, rule by rule and on tens of thousands of random strings: on caption-like English
(letters, digits, decimals, times, fractions, hyphenated words, clitics and contractions,
quotes, brackets, slashes, ampersands, currency, percent, ellipses, dashes, abbreviations and
acronyms, URLs, e-mail addresses, hashtags, accented Latin letters, emoji) the tokens are
identical. Known differences, all outside caption-like text:

* letters are the Unicode letters of Python's Unicode database, while the jar's lexer tables
  predate Unicode 6.1: the ~500 letters added since (phonetic and medievalist Latin extensions,
  Cherokee small letters, some CJK, Arabic, Georgian and other characters) are deleted by Java
  and kept by Python;
* the longest-match choice of the generated lexer is emulated by trying every rule; some rules
  of the jar were inferred from its behaviour, so on pathological strings (runs of mixed quotes,
  brackets and symbols glued to letters of other scripts) a different rule may win;
* upper-case letters used as sentence-start context (after ``etc.``, ``U.S.`` and the like) are
  those of Python's ``str.isupper``, lower-casing is ``str.lower``.

:func:`lex_lines` is the entry point; :func:`metrics.ptb_tokenizer.python_tokenize` wraps it
with pycocoevalcap's post-processing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

try:  # regex parser internals, used only to pick the rules worth trying at a position
    from re import _constants as _sre
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover - other Python versions: try every rule
    _sre = _sre_parser = None

__all__ = ["lex_lines"]

# ---------------------------------------------------------------------------------------------
# A Python re-implementation of CoreNLP 3.4.1's PTBLexer (PTB3 escaping, -lowerCase)
# ---------------------------------------------------------------------------------------------


def _char_class(members: Callable[[str], bool], extra: str = "") -> str:
    """A regex character class of the BMP characters ``members`` accepts, plus ``extra``."""
    parts: list[str] = []
    start = None
    for code in range(0x10000 + 1):
        inside = code < 0x10000 and not 0xD800 <= code < 0xE000 and members(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            end = code - 1
            parts.append(
                re.escape(chr(start))
                if start == end
                else f"{re.escape(chr(start))}-{re.escape(chr(end))}"
            )
            start = None
    return "[" + "".join(parts) + extra + "]"


# Characters PTBLexer treats as letters besides Unicode letters (PTBLexer.flex: LETTER).
_EXTRA_LETTERS = (
    "\u00ad\u0237-\u024f\u02c2-\u02c5\u02d2-\u02df\u02e5-\u02ff\u0300-\u036f\u0370-\u037d"
    "\u0384\u0385\u03cf\u03f6\u03fc-\u03ff\u0483-\u0487\u04cf\u04f6-\u04ff\u0510-\u0525"
    "\u055a-\u055f\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u0615-\u061a\u063b-\u063f"
    "\u064b-\u065e\u0670\u06d6-\u06ef\u06fa-\u06ff\u070f\u0711\u0730-\u074f\u0750-\u077f"
    "\u07a6-\u07b1\u07ca-\u07f5\u07fa\u0900-\u0903\u093c\u093e-\u094e\u0951-\u0955\u0962-\u0963"
    "\u0981-\u0983\u09bc-\u09c4\u09c7\u09c8\u09cb-\u09cd\u09d7\u09e2\u09e3\u0a01-\u0a03\u0a3c"
    "\u0a3e-\u0a4f\u0a81-\u0a83\u0abc-\u0acf\u0b82\u0bbe-\u0bc2\u0bc6-\u0bc8\u0bca-\u0bcd"
    "\u0c01-\u0c03\u0c3e-\u0c56\u0d3e-\u0d44\u0d46-\u0d48\u0e30-\u0e3a\u0e47-\u0e4e\u0eb1-\u0ebc"
    "\u0ec8-\u0ecd"
)
# Letters (Lo) in the Unicode version the jar was built with, combining marks (Mn) today.
_FORMER_LETTERS = "\u1885\u1886"
# Single characters that come out as one token each when no longer rule matches them (the
# lexer's MISCSYMBOL class and its one-character punctuation rules, as the 3.4.1 jar behaves).
_SYMBOL_RANGES = (
    "#-'*-,:->\\\\^`|~\u00a1\u00a5-\u00a9\u00ac\u00ae-\u00b4\u00b6-\u00b9\u00bf\u00d7\u00f7"
    "\u037e\u0387\u0589\u05be\u05c0\u05c3\u05c6\u05f3\u05f4\u0600-\u0603\u0606-\u060c\u0614"
    "\u061b\u061e\u061f\u066a\u066d\u06d4\u0700-\u070d\u07f6-\u07f8\u0964\u0965\u0e3f\u0e4f"
    "\u1fbd\u2016\u2017\u201a\u201e-\u2023\u2030-\u2038\u203b\u203e-\u2042\u2044\u2070"
    "\u2074-\u207e\u2080-\u208e\u20a4\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118"
    "\u211e-\u2123\u2125\u2127\u2129\u212e\u213a\u213b\u2140-\u2144\u214a-\u214d\u214f"
    "\u2155-\u215e\u2190-\u2bff\u3001\u3002\u3012\u30fb\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40"
    "\uff5b-\uff65\uffe0\uffe1\uffe5\uffe6"
)

_L = _char_class(  # the lexer's LETTER macro
    lambda ch: unicodedata.category(ch)[0] == "L", _EXTRA_LETTERS + _FORMER_LETTERS
)
_LETTER = _char_class(  # JFlex's [:letter:]
    lambda ch: unicodedata.category(ch)[0] == "L", _FORMER_LETTERS
)
_LETTERS_NO_SHY = _char_class(
    lambda ch: unicodedata.category(ch)[0] == "L",
    _EXTRA_LETTERS.replace("\u00ad", "") + _FORMER_LETTERS,
)
_D = _char_class(lambda ch: unicodedata.category(ch) == "Nd")
_LD = _L[:-1] + _D[1:]  # letters (with PTBLexer's extra ones) or digits
_ALNUM = _char_class(
    lambda ch: unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd",
    _FORMER_LETTERS,
)
_UPPER = _char_class(lambda ch: ch.isupper())

_SPACE_CHARS = " \t\u00a0\u2000-\u200a\u3000"
_NL_CHARS = "\r\n\u2028\u2029\x0b\x0c\x85"
_SPACE = f"[{_SPACE_CHARS}]"
_SPACENL = f"[{_SPACE_CHARS}{_NL_CHARS}]"
_NOT_SPACENL = f"[^{_SPACE_CHARS}{_NL_CHARS}]"

_APOS = "(?:['\x92\u2019]|&apos;)"
_APOSETC = "(?:['\x92\u2019`\x91\u2018\u201b]|&apos;)"
_HYPHEN = "[-_\u058a\u2010\u2011]"
_WORD = f"{_L}(?:{_LD})*(?:[.!?]{_L}(?:{_LD})*)*"
_SWORD = "[A-Za-z\u00ad]*?[A-MO-Za-mo-z]\u00ad*"
_REDAUX = f"{_APOS}(?:[msdMSD]|(?i:re|ve|ll))"
_SREDAUX = f"(?i:n){_APOSETC}(?i:t)"
_NUM = f"(?:{_D})*(?:[.:,\u00ad\u066b\u066c](?:{_D})+)+|(?:{_D})+"
_NUMBER = f"[-+]?(?:{_NUM})"
_ACRO_SPECIAL = r"(?i:canada|sino|korean|eu|japan|non)-(?i:u\.s)|(?i:u\.s\.-(?:u\.k|u\.s\.s\.r))"
_ACRO = rf"(?:{_ACRO_SPECIAL}|[A-Za-z](?:\.[A-Za-z])*)"
_ACRO2 = rf"(?:{_ACRO_SPECIAL}|[A-Za-z](?:\.[A-Za-z])+)"
_THING_PART = f"(?:[dDoOlL]{_APOSETC}{_ALNUM})?"
_THING = f"{_THING_PART}{_ALNUM}+(?:{_HYPHEN}{_THING_PART}{_ALNUM}+)*"
_HTHING = f"[A-Za-z0-9][A-Za-z0-9.,\u00ad]*(?:-(?:{_ACRO2}\\.|[A-Za-z0-9\u00ad]+))+"
_THING3 = r"[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}"
_QUOTES = [
    _APOS,
    "[`\u2018\u2019\u201a\u201b\u201c\u201d\x91\x92\x93\x94\u201e\u201f\u2039\u203a\xab\xbb]{1,2}",
]
_SGML = (
    r"<(?:[!?][A-Za-z-][^>\r\n]*"
    r"|[A-Za-z][A-Za-z0-9_:.-]*(?: +(?:[A-Za-z][A-Za-z0-9_:.-]*"
    r"|[A-Za-z][A-Za-z0-9_:.-]* *= *(?:'[^'\r\n]*'|\"[^\"\r\n]*\"|[A-Za-z][A-Za-z0-9_:.-]*)))*"
    r" */?|/[A-Za-z][A-Za-z0-9_:.-]*) *>"
)


def _ci_words(words: str) -> str:
    """Alternation of caseless words whose ``[...]`` classes stay case-sensitive, as in JFlex."""
    out = [
        re.sub(r"\[([^\]]+)\]", r"(?-i:[\1])", word)
        for word in sorted(words.split(), key=len, reverse=True)
    ]
    return "(?i:" + "|".join(out) + ")"


_ABMONTH = "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
_ABDAYS = "Mon Tue Tues Wed Thu Thurs Fri"
_ABSTATE = (
    "Ala Ariz [A]z [A]rk Calif Colo Conn Ct Dak [D]el Fla Ga [I]ll Ind Kans? Ky [L]a [M]ass Md "
    "Mich Minn [M]iss Mo Mont Neb Nev Okla [O]re [P]a Penn Tenn [T]ex Va Vt [W]ash Wisc? Wyo"
)
_ABCOMP = "Inc Cos? Corp Pp?t[ye]s? Ltd Plc Rt Bancorp Bhd Assn Univ Intl Sys"
_ABNUM = "tel est ext sq"
_ABPTIT = r"Jr Sr Bros (?:Ed|Ph)\.D Blvd Rd Esq"
_ABBREV1 = (
    _ci_words(" ".join([_ABMONTH, _ABDAYS, _ABSTATE, _ABCOMP, _ABNUM, _ABPTIT, "etc al seq Bldg"]))
    + r"\."
)
_ABTITLE = (
    "Mr Mrs Ms [M]iss Drs? Profs? Sens? Reps? Attys? Lt Col Gen Messrs Govs? Adm Rev Maj Sgt "
    "Cpl Pvt Capt Ste? Ave Pres Lieut Rt Hon Brig Co?mdr Pfc Spc Supts? Det Mt Ft Adj Adv Asst "
    "Assoc Ens Insp Mlle Mme Msgr Sfc"
)
_ABCOMP2 = "Invt Elec Natl M[ft]g Dept Ave"
_ABBREV4 = (
    "(?:"
    + _ci_words(f"{_ABTITLE} vs [v] Alex Wm Jos Cie a\\.k\\.a cf TREAS Ph {_ABCOMP2}")
    + f"|{_ACRO})"
)
_ABBREV3 = _ci_words("ca figs? prop nos? art bldg pp op") + r"\."
_ACRONYM_FOLLOWERS = _ci_words(
    "[A]bout [A]ccording [A]dditionally [A]fter [A]n [A] [A]s [A]t [B]ut [E]arlier [H]e [H]er "
    "[H]ere [H]owever [I]f [I]n [I]t [L]ast [M]any [M]ore [M]r\\. [M]s\\. [N]ow [O]nce [O]ne "
    "[O]ther [O]ur [S]he [S]ince [S]o [S]ome [S]uch [T]hat [T]he [T]heir [T]hen [T]here "
    "[T]hese [T]hey [T]his [W]e [W]hen [W]hile [W]hat [Y]et [Y]ou"
)
_FILENAME = f"{_ALNUM}+(?:\\.{_ALNUM}+)*\\." + _ci_words(
    "bat bmp c class cgi cpp dll doc docx exe gif gz h htm html jar java jpeg jpg mov mp3 pdf "
    "php pl png ppt ps py sql tar txt wav x xml zip"
)
_PHONE = (
    r"(?:\([0-9]{2,3}\)[ \u00a0]?|(?:\+\+?)?(?:[0-9]{2,4}[- \u00a0])?[0-9]{2,4}[- \u00a0])"
    r"[0-9]{3,4}[- \u00a0]?[0-9]{3,5}"
    r"|(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5}"
)
_APOWORDS = [
    f"{_APOS}(?i:n){_APOS}?",
    f"[lLdDjJ]{_APOS}",
    f"(?i:dunkin|somethin|ol){_APOS}",
    f"{_APOS}(?i:em|cause|till?)",
    f"[A-HJ-XZn]{_APOSETC}{_LETTER}{_LETTER}{_LETTER}*",
    f"{_APOS}[2-9]0(?i:s)",
    f"{_LETTER}{_LETTER}*?[aeiouyAEIOUY]{_APOSETC}[aeiouA-Z]{_LETTER}*",
    r"(?i:cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)",
    f"(?i:o){_APOSETC}(?i:o)",
]

_SINGLE_QUOTE = re.compile("&apos;|'")
_DOUBLE_QUOTE = re.compile('"|&quot;')
_LEFT_SINGLE = re.compile("[\x91\u2018\u201b\u2039]")
_RIGHT_SINGLE = re.compile("[\x92\u2019\u203a]")
_LEFT_DOUBLE = re.compile("[\x93\u201c\xab]")
_RIGHT_DOUBLE = re.compile("[\x94\u201d\xbb]")
_AMP = re.compile("&amp;", re.IGNORECASE)
_FRACTIONS = {"\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4", "\u2153": "1/3", "\u2154": "2/3"}
_CURRENCY = str.maketrans(
    {"\u00a2": "cents", "\u00a3": "#", "\x80": "$", "\u00a4": "$", "\u20a0": "$", "\u20ac": "$"}
)


def _latex_quotes(text: str, probably_left: bool) -> str:
    """PTBLexer.latexQuotes: ASCII quotes by guessed side, curly/CP1252 quotes by their shape."""
    if probably_left:
        text = _DOUBLE_QUOTE.sub("``", _SINGLE_QUOTE.sub("`", text))
    else:
        text = _DOUBLE_QUOTE.sub("''", _SINGLE_QUOTE.sub("'", text))
    text = _RIGHT_SINGLE.sub("'", _LEFT_SINGLE.sub("`", text))
    return _RIGHT_DOUBLE.sub("''", _LEFT_DOUBLE.sub("``", text))


def _remove_soft_hyphens(text: str) -> str:
    """Drop soft hyphens (a token of soft hyphens only becomes ``-``, as the jar does)."""
    out = text.replace("\u00ad", "")
    return out if out else "-"


def _nbsp(text: str) -> str:
    return text.replace(" ", "\u00a0")


def _parens(text: str) -> str:
    return text.replace("(", "-LRB-").replace(")", "-RRB-")


# Actions: what a matched token becomes. ``None``: no token (white space, untokenizable).
_KEEP = "keep"
_REPUSH_PERIOD = "repush"  # emit the token, then lex its final period again (reduplication)
_ACRONYM = "acronym"  # PTBLexer.processAcronym


@dataclass(frozen=True)
class _Rule:
    """One lexer rule: its patterns (the longest match wins), its transform, its context."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    transform: Callable[[str], str] | str | None
    context: bool  # the pattern's group "t" is the token, the rest trailing context
    may_start: Callable[[str], bool]  # False: no pattern can match text starting with this


def _variants(char: str, ignore_case: bool) -> set[str]:
    """``char`` and, when ``ignore_case``, its case variants."""
    if not ignore_case:
        return {char}
    return {char, char.lower(), char.upper(), char.casefold(), char.swapcase()}


def _in_class(items: list, char: str, ignore_case: bool) -> bool:
    """Whether a parsed character class (``re._parser`` IN items) may match ``char``."""
    sre = _sre
    negate = bool(items) and items[0][0] is sre.NEGATE
    categories = {
        sre.CATEGORY_DIGIT: str.isdecimal,
        sre.CATEGORY_SPACE: str.isspace,
        sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    }
    not_categories = {
        sre.CATEGORY_NOT_DIGIT: sre.CATEGORY_DIGIT,
        sre.CATEGORY_NOT_SPACE: sre.CATEGORY_SPACE,
        sre.CATEGORY_NOT_WORD: sre.CATEGORY_WORD,
    }
    for variant in _variants(char, ignore_case):
        inside = False
        for op, arg in items:
            if op is sre.LITERAL:
                inside = variant == chr(arg)
            elif op is sre.RANGE:
                inside = arg[0] <= ord(variant) <= arg[1]
            elif op is sre.CATEGORY and arg in categories:
                inside = categories[arg](variant)
            elif op is sre.CATEGORY and arg in not_categories:
                inside = not categories[not_categories[arg]](variant)
            elif op is not sre.NEGATE:
                return True  # unknown item: assume it may match
            if inside:
                break
        if inside != negate:
            return True
    return False


def _first_chars(items: list, ignore_case: bool) -> tuple[list[Callable[[str], bool]], bool]:
    """Tests a first character must pass for the parsed sequence to match; and if it is nullable.

    A superset (any doubt gives "may match"); it only selects which rules to try at a position.
    """
    sre = _sre
    tests: list[Callable[[str], bool]] = []
    for op, arg in items:
        nullable = False
        if op is sre.LITERAL:
            literal = chr(arg)
            tests.append(lambda c, lit=literal, i=ignore_case: lit in _variants(c, i))
        elif op is sre.IN:
            tests.append(lambda c, cls=arg, i=ignore_case: _in_class(cls, c, i))
        elif op is sre.BRANCH:
            for branch in arg[1]:
                sub, sub_nullable = _first_chars(list(branch), ignore_case)
                tests.extend(sub)
                nullable = nullable or sub_nullable
        elif op is sre.SUBPATTERN:
            _, add_flags, del_flags, sub_pattern = arg
            case = (ignore_case or bool(add_flags & re.IGNORECASE)) and not (
                del_flags & re.IGNORECASE
            )
            sub, nullable = _first_chars(list(sub_pattern), case)
            tests.extend(sub)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, _, sub_pattern = arg
            sub, sub_nullable = _first_chars(list(sub_pattern), ignore_case)
            tests.extend(sub)
            nullable = low == 0 or sub_nullable
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            nullable = True
        else:  # anything else: no restriction
            return [lambda c: True], True
        if not nullable:
            return tests, False
    return tests, True


def _start_test(patterns: tuple[re.Pattern[str], ...]) -> Callable[[str], bool]:
    """Whether some pattern may match text starting with a given character."""
    if _sre is None or _sre_parser is None:  # pragma: no cover
        return lambda c: True
    tests: list[Callable[[str], bool]] = []
    for pattern in patterns:
        try:
            sub, nullable = _first_chars(list(_sre_parser.parse(pattern.pattern)), False)
        except Exception:  # noqa: BLE001 - private parser API: fall back to "always"
            return lambda c: True
        if nullable:
            return lambda c: True
        tests.extend(sub)
    return lambda c: any(test(c) for test in tests)


def _rule(
    name: str,
    patterns: str | list[str],
    transform: Callable[[str], str] | str | None = _KEEP,
    context: str | None = None,
) -> _Rule:
    if isinstance(patterns, str):
        patterns = [patterns]
    if context is not None:
        compiled = tuple(re.compile(f"(?P<t>{p})(?:{context})") for p in patterns)
    else:
        compiled = tuple(re.compile(p) for p in patterns)
    return _Rule(name, compiled, transform, context is not None, _start_test(compiled))


_RULES: list[_Rule] = [
    _rule("programming_language", "(?i:c\\+\\+|[cf]#)"),
    _rule("assimilation3", "(?i:cannot|'twas)"),
    _rule("assimilation2", "(?i:'tis|gonna|gotta|lemme|gimme|wanna)"),
    _rule("sgml", _SGML, _nbsp),
    _rule("dash_entity", "&(?i:md|mdash|ndash);|[\x96\x97\u2013\u2014\u2015]", lambda t: "--"),
    _rule("amp_entity", "&(?i:amp);", lambda t: "&"),
    _rule("punct_entity", "&(?i:ht|tl|ur|lr|qc|ql|qr|odq|cdq|#[0-9]+);"),
    _rule("word_redaux", _WORD, _remove_soft_hyphens, context=_REDAUX),
    _rule("sword_sredaux", _SWORD, _remove_soft_hyphens, context=_SREDAUX),
    _rule("word", _WORD, _remove_soft_hyphens),
    _rule("apoword", _APOWORDS),
    _rule("apoword2", f"(?i:y){_APOS}", context=_LETTER),
    _rule(
        "full_url",
        r"(?i:https?)://[^ \t\n\f\r\"<>|()]+[^ \t\n\f\r\"<>|.!?(){},-]",
    ),
    _rule(
        "likely_url",
        r"(?:(?i:www)\.(?:[^ \t\n\f\r\"<>|.!?(){},]+\.)+[a-zA-Z]{2,4}"
        r"|(?:[^ \t\n\f\r\"`'<>|.!?(){},-_$]+\.)+(?i:com|net|org|edu))"
        r"(?:/[^ \t\n\f\r\"<>|()]+[^ \t\n\f\r\"<>|.!?(){},-])?",
    ),
    _rule(
        "email",
        '(?:&lt;|<)?[a-zA-Z0-9][^ \t\n\f\r"<>|()\u00a0{}]*@'
        '(?:[^ \t\n\f\r"<>|(){}.\u00a0]+\\.)*[^ \t\n\f\r"<>|(){}.\u00a0]+(?:&gt;|>)?',
    ),
    _rule("twitter", f"[@\uff20][a-zA-Z_][a-zA-Z_0-9]*|[#\uff03](?:{_L})+"),
    _rule("redaux_ctx", _REDAUX, lambda t: _latex_quotes(t, False), context="[^A-Za-z]"),
    _rule("sredaux_ctx", _SREDAUX, lambda t: _latex_quotes(t, False)),
    _rule("date", f"(?:{_D}){{1,2}}[-/](?:{_D}){{1,2}}[-/](?:{_D}){{2,4}}"),
    _rule("number", _NUMBER, _remove_soft_hyphens),
    _rule(
        "subsupnum",
        "[\u207a\u207b\u208a\u208b]?(?:[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+|[\u2080-\u2089]+)",
    ),
    _rule(
        "frac",
        f"(?:(?:{_D}){{1,4}}[- \u00a0])?(?:{_D}){{1,4}}(?:\\\\?/|\u2044)(?:{_D}){{1,4}}",
        _nbsp,
    ),
    _rule("frac2", "[\u00bc\u00bd\u00be\u2153-\u215e]", lambda t: _FRACTIONS.get(t, t)),
    _rule(
        "tbspec",
        f"-(?i:rrb|lrb|rcb|lcb|rsb|lsb)-|(?i:c\\.d\\.s|pro-|anti-)|(?i:s)(?:&|&amp;)(?i:p-500)"
        f"|(?i:s)(?:&|&amp;)(?i:ls)|(?i:cap){_APOS}(?i:n)|(?i:c){_APOS}(?i:est)",
        lambda t: _AMP.sub("&", t),
    ),
    _rule("thing3", _THING3),
    _rule("dolsign", r"[A-Z]*\$|#"),
    _rule("dolsign2", "[\u00a2\u00a3\u00a4\x80\u20a0\u20ac]", lambda t: t.translate(_CURRENCY)),
    _rule(
        "acronym_sentence_end",
        f"{_ACRO}\\.",
        _ACRONYM,
        context=f"(?:{_SPACENL})+{_ACRONYM_FOLLOWERS}{_SPACENL}",
    ),
    _rule("abbrev3", _ABBREV3, context=f"{_SPACENL}?{_D}"),
    _rule(
        "abbrev1_sentence_end",
        _ABBREV1,
        _REPUSH_PERIOD,
        context=f"{_SPACENL}(?:{_SPACENL}|{_UPPER}|{_SGML})",
    ),
    _rule("abbrev1", _ABBREV1, context="[\\s\\S]{2}"),
    _rule("abbrev1_end", _ABBREV1, _REPUSH_PERIOD),
    _rule("abbrev2", f"{_ABBREV4}\\."),
    _rule("abbrev4", _ABBREV4, context=_SPACE),
    _rule("acro", _ACRO, context=_SPACENL),
    _rule("tbspec2", f"{_APOS}[0-9][0-9]", context=_SPACENL),
    _rule("filename", _FILENAME, context=f"{_SPACENL}|[.?!,]"),
    _rule("word_period", f"{_WORD}\\.", _remove_soft_hyphens, context="[,;:]"),
    _rule("thing_period", f"{_THING}\\.", lambda t: _latex_quotes(t, False), context="[,;:]"),
    _rule("phone", _PHONE, lambda t: _parens(_nbsp(t))),
    _rule("dblquote_left", '"|&quot;', lambda t: _latex_quotes(t, True), context="[A-Za-z0-9$]"),
    _rule("dblquote", '"|&quot;', lambda t: _latex_quotes(t, False)),
    _rule("two_apostrophes", "''"),
    _rule("lessthan", "<|&lt;", lambda t: "<"),
    _rule("greaterthan", ">|&gt;", lambda t: ">"),
    _rule("smiley", r"[<>]?[:;=][-o*']?[()DPdpO\\{@|\[\]]", _parens, context="[^A-Za-z0-9]"),
    _rule(
        "asian_smiley",
        [
            r"[-^x=~<>']_[-^x=~<>']",
            r"\([-^x=~<>'][_.]?[-^x=~<>']\)",
            r"\([\^x=~<>']-[\^x=~<>'`]\)",
        ],
        _parens,
    ),
    _rule("lcb", r"\{", lambda t: "-LCB-"),
    _rule("rcb", r"\}", lambda t: "-RCB-"),
    _rule("lsb", r"\[", lambda t: "-LSB-"),
    _rule("rsb", r"\]", lambda t: "-RSB-"),
    _rule("lrb", r"\(", lambda t: "-LRB-"),
    _rule("rrb", r"\)", lambda t: "-RRB-"),
    _rule("hyphens", "-+", lambda t: "--" if 3 <= len(t) <= 4 else t),
    _rule("ellipsis", [r"\.{3,5}", "(?:\\.[ \u00a0]){2,4}\\.", "[\x85\u2026]"], lambda t: "..."),
    _rule("fnmarks", "@+|#+|_+"),
    _rule("asterisks", r"\*+|(?:\\\*){1,3}"),
    _rule("insentp", "[,;:]"),
    _rule("bang", "[?!]+"),
    _rule("period", "[.\u00a1\u00bf\u037e\u0589\u061f\u06d4\u0700-\u0702\u07fa\u3002]"),
    _rule("equals", "="),
    _rule("slash", "/"),
    _rule("hthing", _HTHING, _remove_soft_hyphens),
    _rule("thing", _THING),
    _rule(
        "thinga",
        "[A-Z]+(?:(?:[+&]|&(?i:amp);)[A-Z]+)+",
        lambda t: _AMP.sub("&", t),
    ),
    _rule("quotes_left", "'|&apos;", lambda t: "`", context=f"[A-Za-z]{_NOT_SPACENL}"),
    _rule("quotes", _QUOTES, lambda t: _latex_quotes(t, False)),
    _rule("redaux", _REDAUX, lambda t: _latex_quotes(t, False)),
    _rule("sredaux", _SREDAUX, lambda t: _latex_quotes(t, False)),
    _rule("duckfeet", "<<|>>"),
    _rule("symbol", f"[{_SYMBOL_RANGES}]"),
    _rule("space", f"{_SPACE}+|&(?i:nbsp);", None),
]
_PUSHBACK = {"assimilation3": 3, "assimilation2": 2}

_FAST_WORD = re.compile(f"{_LETTERS_NO_SHY}+(?=[ \n]|\\Z)")
_FAST_EXCLUDED = frozenset(["cannot", "gonna", "gotta", "lemme", "gimme", "wanna"])


_CANDIDATES: dict[str, tuple[_Rule, ...]] = {}


def _candidates(char: str) -> tuple[_Rule, ...]:
    """The rules that may match at a position holding ``char``, in priority order."""
    rules = _CANDIDATES.get(char)
    if rules is None:
        rules = tuple(rule for rule in _RULES if rule.may_start(char))
        _CANDIDATES[char] = rules
    return rules


def _next_token(text: str, pos: int) -> tuple[str | None, int]:
    """(token or None, position after it) for the longest rule match at ``pos``."""
    best_rule: _Rule | None = None
    best_match: re.Match[str] | None = None
    best_length = 0
    for rule in _candidates(text[pos]):
        for pattern in rule.patterns:
            match = pattern.match(text, pos)
            if match is not None and match.end() - pos > best_length:
                best_rule, best_match, best_length = rule, match, match.end() - pos
    if best_rule is None or best_match is None:
        return None, pos + 1  # untokenizable character: deleted, as the jar does by default
    token = best_match.group("t") if best_rule.context else best_match.group(0)
    end = pos + len(token)
    transform = best_rule.transform
    if transform is None:
        return None, end
    if best_rule.name in _PUSHBACK:
        token = token[: -_PUSHBACK[best_rule.name]]
        return token, pos + len(token)
    if transform == _KEEP:
        return token, end
    if transform == _REPUSH_PERIOD:
        return token, end - 1
    if transform == _ACRONYM:
        if len(token) == 2:  # "A." before a sentence start: the letter, then the period
            return token[0], pos + 1
        return token, end - 1
    assert callable(transform)
    return transform(token), end


def lex_lines(text: str) -> list[str]:
    """Tokens of ``text``, lower-cased, space-joined, one output line per input line."""
    lines: list[list[str]] = [[]]
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char == "\n":
            lines.append([])
            pos += 1
            continue
        if char == " ":
            pos += 1
            continue
        fast = _FAST_WORD.match(text, pos)
        if fast is not None and fast.group(0).lower() not in _FAST_EXCLUDED:
            lines[-1].append(fast.group(0).lower())
            pos = fast.end()
            continue
        token, pos = _next_token(text, pos)
        if token:
            lines[-1].append(token.lower())
    return [" ".join(tokens) for tokens in lines]
