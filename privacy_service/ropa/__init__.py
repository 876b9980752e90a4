"""Records of processing (GDPR Art. 30): organisations, activities, exports and the public notice."""
