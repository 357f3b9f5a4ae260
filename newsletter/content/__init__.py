"""Content: every source format (scraped blog pages, Markdown, RSS/Atom) becomes a :class:`Post`."""

from newsletter.content.assemble import ArticleBody
from newsletter.content.feed import parse_feed
from newsletter.content.html_blocks import html_to_blocks
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import BLOCK_TYPES, Block, BlockType, Post, QuestionAnswer
from newsletter.content.scraped import parse_scraped
from newsletter.content.slug import slugify
from newsletter.content.sources import load_posts

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
