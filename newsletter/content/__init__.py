"""Content: text becomes a :class:`Post` (scraped blog pages, Markdown), purely.

The HTML block parsing here is shared with the feeds' entries (:mod:`newsletter.feeds`),
which also reads posts from files and URLs (:mod:`newsletter.feeds.sources`).
"""

from newsletter.content.assemble import ArticleBody
from newsletter.content.html_blocks import html_to_blocks
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import BLOCK_TYPES, Block, BlockType, Post, QuestionAnswer
from newsletter.content.scraped import parse_scraped
from newsletter.content.slug import slugify

__all__ = [
    "BLOCK_TYPES",
    "ArticleBody",
    "Block",
    "BlockType",
    "Post",
    "QuestionAnswer",
    "html_to_blocks",
    "parse_markdown",
    "parse_scraped",
    "slugify",
]
