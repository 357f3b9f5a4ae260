"""Content: every source format (scraped blog pages, Markdown, RSS/Atom) becomes a :class:`Post`."""

from .post import BLOCK_TYPES, Block, BlockType, Post, QuestionAnswer

__all__ = ["BLOCK_TYPES", "Block", "BlockType", "Post", "QuestionAnswer"]
