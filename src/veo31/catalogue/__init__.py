"""Catalogues: a store's product export (Shopify, WooCommerce, Google Merchant Center, or veo31's own CSV) read into
product records — an id, a title, up to three images in the store's order — with the rows that cannot make a video
listed beside them and why, and the key that tells whether a product changed since the last run."""
