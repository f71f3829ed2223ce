"""An organization's own keywords, on top of the built-in ones (JOIN, JIUNGE, STOP, ACHA …)."""

from rest_framework import mixins, serializers

from outreach.access import Action
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.keywords import Intent, Keyword, KeywordSet
from outreach.models import Keyword as KeywordRow
from outreach.selectors.conversation import keyword_set_for
from outreach.services.keywords import keyword_create, keyword_update
from outreach.validators import validate_language_code


class KeywordSerializer(serializers.ModelSerializer):
    intent = serializers.ChoiceField(choices=[(i.value, i.value) for i in Intent])
    language = serializers.CharField(
        max_length=3, allow_blank=True, required=False, validators=[validate_language_code]
    )

    class Meta:
        model = KeywordRow
        fields = ["id", "word", "intent", "language"]

    def validate_language(self, language: str) -> str:
        organization = self.context["organization"]
        if language and language not in organization.languages:
            raise serializers.ValidationError(
                f"Choose one of the organization's languages: {', '.join(organization.languages)}."
            )
        return language

    def validate(self, attrs: dict) -> dict:
        word = attrs.get("word", getattr(self.instance, "word", ""))
        intent = attrs.get("intent", getattr(self.instance, "intent", ""))
        current = keyword_set_for(self.context["organization"])
        if self.instance is not None:
            current = KeywordSet(k for k in current if k.word != self.instance.word)
        try:
            current.extended([Keyword(word=word, intent=Intent(intent), language=None)])
        except ValueError as error:
            raise serializers.ValidationError({"word": [str(error)]}) from error
        return attrs


class KeywordViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
):
    """Extra keywords (e.g. UMOJA to join, in Swahili). Built-in STOP words cannot be taken."""

    queryset = KeywordRow.objects.all()
    serializer_class = KeywordSerializer
    read_action = Action.SEE_KEYWORDS
    write_action = Action.CHANGE_KEYWORDS
    filterset_fields = ["intent", "language"]
    search_fields = ["word"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "organization": self.organization}

    def perform_create(self, serializer: KeywordSerializer) -> None:
        serializer.instance = keyword_create(
            organization=self.organization, **serializer.validated_data
        )

    def perform_update(self, serializer: KeywordSerializer) -> None:
        serializer.instance = keyword_update(
            keyword=serializer.instance, **serializer.validated_data
        )
