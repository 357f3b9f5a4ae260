"""Content: every source format (scraped blog pages, Markdown, RSS/Atom) becomes a :class:`Post`."""

from .assemble import ArticleBody
from .feed import parse_feed
from .html_blocks import html_to_blocks
from .markdown import parse_markdown
from .post import BLOCK_TYPES, Block, BlockType, Post, QuestionAnswer
from .scraped import parse_scraped
from .slug import slugify
from .sources import load_posts

__all__ = [
    "BLOCK_TYPES",
    "ArticleBody",
    "Block",
    "BlockType",
    "Post",
    "QuestionAnswer",
    "html_to_blocks",
    "load_posts",
    "parse_feed",
    "parse_markdown",
    "parse_scraped",
    "slugify",
]
