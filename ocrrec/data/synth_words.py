"""An embedded list of 2990 common English words (lower-case a-z) for `dataset synth`.

Hand-written for ocrrec (no external source), so synthetic demo data needs no download.
"""

from __future__ import annotations

_WORDS = """
ability about above absence absolute abstract academic accept access accident account accurate
achieve acid acquire across act action active actor actual actually adapt add addition address
adequate adjust admire admit adopt adult advance advanced adventure advertise advice affect afford
afraid after afternoon again against age agency agenda agent ago agree ahead aid aim air aircraft
airport alarm album alcohol alien align alive alliance allocate allow almost alone along already
also alter always amateur amazing ambition among amount analysis analyst ancestor anchor ancient
anger angle angry animal ankle announce annual another answer anxiety anybody anyone anything anyway
apart apartment apparent appeal appear appetite applause apple appliance apply appoint approach
approval approve april aquarium arch area arena argue argument arise arm armor army aroma around
arrange arrest arrival arrive arrow art article artist artistic aside ask asleep aspect assembly
asset assign assist assistant assume athlete atmosphere atom attach attack attempt attend attic
attitude attorney attract auction audience audio august aunt author authority automatic autumn
available avenue average avocado avoid awake awaken award aware away awesome awful baby bachelor
back backpack backward bacon bacteria badge bag baggage bake baker balance balcony ball ballet
balloon bamboo banana band bandage bank banker banner bar bare barely bargain bark barn barrel base
baseball basement basic basin basket bath battery battle bay beach bean bear beard beast beat beauty
beaver because become bed bedroom bedtime bee beef beer before begin beginner behave behavior behind
being belief bell belly belong beloved below belt bench bend benefit berry beside best better
between beverage beyond bicycle bid big bike bill billion bind biology bird birth birthday biscuit
bit bite bitter black blackboard blade blame blank blanket blender blind blizzard block blood bloom
blossom blow blue blueberry board boat body boil bold bolt bomb bond bone bonus book bookcase boost
boot border bored borrow boss both bottle bottom bounce boundary bowl box boxing boy bracelet brain
branch brand brass brave bread break breakdown breakfast breath breathe breeze brick bride bridge
brief bright brilliant bring broad broccoli brochure broken bronze brother brown browser brush
bubble bucket budget buffalo build builder building bulb bull bullet bulletin bunch burden bureau
burger burn burst bury bus bush business busy butter butterfly button buy buyer cabbage cabin
cabinet cable cactus cafe cage cake calcium calculate calendar call calm camel camera camp campus
canal cancel candidate candle candy cannon canoe canvas canyon cap capable capacity capital captain
capture car caravan carbon card cardboard care career careful careless cargo caribou carnival
carpenter carpet carrot carry cart cartoon case cash cashier casino castle casual cat catalog catch
category caterpillar cathedral cattle cause caution cave ceiling celebrate celery cell cellar cement
census center century ceramic cereal ceremony certain certify chain chair chalk chamber champagne
champion chance change channel chaos chapel chapter character charcoal charge charity charming chart
chase cheap check cheek cheerful cheese chef chemical chemist cherry chess chest chestnut chicken
chief child childhood chimney chimpanzee chin chip chocolate choice choose chopstick chorus church
cider cinema circle circuit circus citizen city civil civilian claim clap clarify class classic
classroom clay clean clear clerk clever client cliff climate climb climber clinic clip clock close
closet cloth clothing cloud clown club clue coach coal coast coat cocoa coconut code coffee coin
cold collapse collar colleague collect college collision colony color colorful column combat combine
comedy comfort comic command commander comment commerce committee common communicate community
compact company compare compass compete complain complete complex compose compound computer concept
concern concert concrete condition conduct conference confident confirm conflict confuse congress
connect connection conquer conscious consent consider constant construct consult consume contact
contain container content contest context continue contract contrast control convert convince cook
cookie cool copper copy coral core corn corner correct corridor cost costume cottage cotton couch
cough could council count counter country county couple courage course court courtyard cousin cover
coverage cow coward cowboy coyote crack cracker craft crane crash crawl crazy cream create creative
creature credible credit crew cricket crime crisp critic crocodile crop cross crossword crowd crown
crucial cruel crumb crush cry crystal cube cucumber cultural culture cup cupboard curious current
curtain curve cushion custom customer cut cute cycle cylinder dad daily dairy damage damp dance
dancer dancing danger dare dark dash data database date daughter dawn day daylight dead deadline
deal dear debate debt decade decent decide decision deck declare decline decorate decrease dedicate
deep deer defeat defend defense deficit define degree delay delight deliver delivery demand
democracy dentist deny depart departure depend deposit depth deputy describe desert design desire
desk dessert destroy detail detect detective develop device devote diagram dialogue diamond diary
dictate dictionary diet differ difficult digital dinner dinosaur diploma direct director dirt dirty
disaster discount discover discuss disease disguise dish dismiss display distance distant district
disturb ditch dive diverse divide doctor document dog doll dollar dolphin domain domestic donate
donkey door doorway dose double doubt dough down download dozen draft drag dragon dragonfly drain
drama draw drawer drawing dream dress dressing drift drill drink drive driver driveway drop dropdown
drum dry duck due dull dumpling duration dust duty dwarf eager eagle ear early earn earnest earring
earth earthquake ease east easy eat echo economy ecosystem edge edit edition editor educate
education effect efficient effort egg eight either elastic elbow elder elect election electric
elegant element elephant elevate elevator eleven eligible else email embassy embrace emerge
emergency emotion emphasis empire employ employee empty enable end endless endure enemy energy
enforce engage engine engineer enjoy enormous enough ensure enter enterprise entire entrance entry
envelope episode equal equation equator equip era erosion errand error escape especially essay
essence estate eternal evaluate even evening event ever every everyday evidence evolution exact
exactly examine example excellent excess exchange excite exclude excuse executive exercise exhaust
exhibit exist exit exotic expand expect expedition expense expert explain explore explosion export
expose express extend extra extreme eye eyebrow fabric face facility fact factor factory faculty
fade fail faint fair fairness faith falcon fall false fame familiar family famous fan fancy
fantastic fantasy far farewell farm farmer fashion fast fat father fault favor favorite fear
fearless feast feather feature february fee feed feedback feel fellow female feminine fence festival
fetch fever few fiber fiction fidelity field fifteen fifty fight figure file fill film filter final
finance find fine finger finish fire fireman firework firm first fish fisherman fit fitness five fix
flag flame flamingo flash flat flavor fleet flesh flexible flight float floating flock flood floor
florist flour flourish flower fluid flush fly foam focus fog fold folk follow food foot football
footstep force forecast foreign forest forever forget fork form formal fortress fortune forty forum
forward fossil found fountain four fox fraction fragile fragrance frame framework free freedom
freeze frequent fresh freshman friction friday fridge friend frighten frog front frontier frost
fruit fuel fugitive full fun function funny fur furniture future gadget gain galaxy gallery gallon
game gap garage garbage garden gardener garlic gas gasoline gate gateway gather gauge gaze gear gene
general generous genius gentle gentleman genuine geography gesture ghost giant gift ginger giraffe
girl give glacier glad glance glass glimpse globe glory glossary glove glow glue goal goat gold
goldfish golf good goose gorilla gospel gossip gourmet govern governor grab grace graceful grade
gradual graduate grain grammar grand grandson grant grape grapefruit graph grass grasshopper
gratitude grave gravity great green greenhouse greet grey grid grief grill grin grip grocery ground
group grow growth guard guardian guess guest guidance guide guilt guitar gulf gun gym habit habitat
hair haircut half hall hallway hamburger hammer hammock hand handbag handle handsome hang happen
happy harbor hard hardware harm harmony harvest hat hate have hawk hazard head headache headline
health hear heart heat heavy hedge height hello helmet help hen herb heritage hero hesitate hidden
hide high highway hill hilltop hint hip hire history hit hobby hold hole holiday hollow home
homework honest honesty honey hood hook hope horizon hormone horn horror horse hospital host hostage
hotel hour house household hover huge human humble humor hundred hunger hunt hurricane hurry hurt
husband hut hydrogen hygiene ice iceberg icon idea identical identify identity idle ignore ill
illegal illness illusion image imagine imitate immense immune impact import impose impress improve
inch incident incline include income increase index indicate indigo indirect indoor industry infant
inflation influence inform inherit initial initiate injure injury ink inner innocent innovate input
inquiry insect inside insight insist inspect inspire install instance instant instead instinct
instruct insulin insurance integral intend intense interest interior internal internet interval
interview intimate invasion inventor invest invisible invite iron irregular island isolate issue
item ivory jacket jaguar jam janitor january jar jasmine javelin jazz jealous jeans jelly jellyfish
jewel jewelry job jockey join joint joke journal journalist journey joy judge judgment juggle juice
july jump junction june jungle junior jury just justice justify kangaroo keen keep kettle key
keyboard kick kid kidney kind king kingdom kiss kit kitchen kite kitten knee knife knight knock knot
know knowledge label labor laboratory lace lack ladder lady ladybug lake lamb lamp land landmark
landscape lane language lantern laptop large largely laser last late later laugh laughter launch
laundry lava lavender law lawn lawyer layer lazy lead leader leadership leaf league lean learn
learning least leather leave lecture left leg legal legend lemon lemonade lend length lens leopard
lesson letter lettuce level liberty library license lid life lifetime lift light lighthouse like
limb limestone limit line linen link lion lip liquid list listen literacy literature little live
lizard load loan lobby lobster local location lock locomotive log logic lonely long longitude loop
loose lord lose loss lot lottery loud lounge love lovely low loyal lucky luggage lullaby lumber
lunch lung luxury machine mad magazine magic magician magnet magnetic maid mail mailbox main majesty
major majority make male mammal mammoth man manage manager mandate mango manner mansion manual many
map marathon marble march margin marigold marine mark market marketing marriage marry marshmallow
mascot mask mass massive master match material math matter mattress maximum maybe mayor meadow meal
mean meaning meantime measure meat mechanic medal media medicine meditate medium meet melody melon
melt member membrane memorial memory mental mention menu merchant mercy merge merit mermaid merry
mesh message metal metaphor method middle midfield midnight migrate mild military milk mill
millennium mind mineral minimum minister minor minute miracle mirror mischief miss missile mission
mistake mix mixture mobile model modern modest moisture molecule moment momentum monday money
monitor monkey monster month monument mood moon moral more morning mosaic mosquito mother motion
motivate motor mountain mouse mouth move movie much mud muffin mule multiple multiply murmur muscle
museum mushroom music musician must mustard mutton mutual myself mystery myth nail name napkin
narrative narrow nation native nature navigate near neat neck necklace need needle negative neighbor
neither nephew nerve nervous nest net network neutral never news newspaper next nice nickname night
nightmare nine nitrogen noble nobody noise nominate none nonsense noodle normal north nose notable
note notebook nothing notice nourish novel novelty november now nuclear nugget number numerous nurse
nut nutrition oak oatmeal obesity obey object objective oblige obscure observe obstacle obtain
occasion occupy ocean october octopus odd offense offer office official often oil okay old olive
olympic olympics omelet once one onion online only open opera operate opinion opponent oppose
opposite optimism option orange orbit orchard orchestra order ordinary organ organic orient original
orphan ostrich other outcome outdoor outer outfit outline output outside oval oven over overall
overcome overlook owl owner oxygen oyster pace pack package paddle page paintbrush painting pair
pajamas palace palm pamphlet pancake panda panel panic panther paper parade paradise paragraph
parallel parameter parcel parent park parking parliament parrot partner party pass passage passenger
passion passport password pastry patch path patience patient patrol pattern pause pave pavement
payment peace peacock peanut pear peasant pedestrian pelican pen penalty pencil penguin peninsula
people pepper pepperoni perfect perfume perhaps period permanent permit person persuade pet petition
pharmacy phenomenon philosophy phone photo photograph phrase physical physician piano picnic picture
piece pig pigeon pill pilot pineapple pink pinnacle pioneer pipe pipeline pistol pitch pizza place
planet plastic plate platform play playground please pleasure pledge pluck plug plumber plunge
pocket podium poem poet poetry point polar pole police polish politics pollution pond pony pool
popcorn popular porcelain portion portrait position possess possible post postcard potato potential
pottery poverty powder power powerful practice praise precious precise predict prefer premium
prepare presence present preserve president pressure prestige pretty prevent price pride primary
primitive princess principal print printer priority prison privacy private prize probably problem
procedure process produce producer product profile profit program progress project promise promote
pronounce proof property proposal prospect prosper protect protein protocol proud provide province
public publisher pudding pull pulp pulse pumpkin punch pupil puppy purchase purity purple purpose
purse pursuit push puzzle pyramid qualify quality quantity quantum quarrel quarter quartz queen
question questionnaire quick quickly quiet quilt quit quiz quotation quote rabbit raccoon race rack
radar radio rail rain rainbow raincoat rainfall raise rally ramp ranch random range rapid rapidly
rare raspberry rate rather raven raw razor reaction ready real reality reason rebel rebuild recall
receipt receive reception recipe recognize recommend record recovery rectangle recycle reduce
referee reference reflect reform refuse region regional register regret regular reindeer reject
relative relax release reliable relief religion rely remain remedy remember remind remote remove
render renew rent reopen repair repeat replace report reporter republic reputation require rescue
research resemble resident resist resolve resource response restaurant restore result retailer
retire retreat return reunion reveal revenue reverse review revolution reward rhythm rib ribbon rice
rich riddle ride ridge rifle right rigid ring riot ripple risk ritual rival river road roast robot
robust rocket romance romantic roof rooftop rookie room rose rosemary rotate rotation rough round
route routine royal rubber rude rug rule run runway rural sad saddle sadness safe sail salad salmon
salon salt salute same sample sand sandwich sapphire satellite satisfy sauce saucepan sausage save
saxophone say scale scan scare scarecrow scatter scene scenery schedule scheme scholar school
science scientist scissors scooter scorpion scout scramble scrap screen script scrub sculpture sea
search seashell season seat seaweed second secret secretary section security seed seek segment
select sell seminar senior sense sensible sentence separate sequence series serpent service session
settle setup seven shadow shaft shallow shampoo share shed shell shelter sheriff shield shift shine
ship shipment shiver shock shoe shoot shop short shortcut shoulder shove shrimp shrug shuffle shy
sibling sick side sidewalk siege sight sign signature silence silent silk silly silver similar
simple simulate since sincere sing siren sister situate six size skate skeleton sketch ski skill
skin skirt skull skyline slab slam sleep slender slice slide slight slim slipper slogan slot slow
slush small smart smile smoke smooth snack snake snap sniff snow snowball snowflake soap soccer
social sock soda soft solar soldier solid solution solve somebody someone sometimes somewhere song
soon sorry sort soul sound soup source south souvenir space spaghetti spare sparrow spatial spawn
speak speaker special spectrum speed spell spend sphere spice spider spike spin spinach spirit
splendid split spoil sponsor spoon sport spot spotlight spray spread spring spy squadron square
squeeze squirrel stable stadium staff stage stairs stairway stamp stand standard starfish start
state statement station statistic stay steak steel stem step stereo stick still sting stock stomach
stone stool story stove strategy strawberry street strength stretch strike strong structure struggle
student studio stuff stumble style subject submarine submit subtle suburb subway success successful
such sudden suffer sugar suggest suit suitcase summer sun sunflower sunlight sunny sunset sunshine
super supermarket supply supporter supreme sure surface surge surgeon surplus surprise surround
survey survival suspect sustain swallow swamp swap swarm swear sweater sweet swift swim swing switch
sword symbol symphony symptom syrup system table tackle tadpole tag tail tailor talent talk
tangerine tank tape target task taste tattoo taxi teach teacher team teaspoon technical telephone
telescope tell temperature template temple ten tenant tendency tennis tent term terminal terrace
terrible territory test text textbook texture thank that theater theme then theory therapy there
they thing thirsty this thought thousand three threshold thriller thrive throw thumb thunder
thursday ticket tide tiger tilt timber time tiny tip tired tissue title toast tobacco today toddler
toe together toilet token tolerate tomato tomorrow tone tongue tonight tool tooth toothbrush top
topic topple torch tornado tortoise toss total tourism tourist toward tower town toy track tractor
trade tradition traffic tragedy tragic trailer train transfer transport trap trash travel tray
treasure treat treaty tree trend trial triangle tribe trick tricycle trigger trillion trim trip
triumph trophy tropical trouble trousers truck true truly trumpet trust truth try tube tuesday
tuition tulip tumble tuna tunnel turbine turkey turn turquoise turtle tutorial twelve twenty twice
twin twist two type typewriter typical ugly umbrella umpire unable unaware uncle uncover under undo
unfair unfold unhappy unicorn uniform unique unit universal universe university unknown unlikely
unlock until unusual unveil update upgrade uphold upon upper upset upstairs urban urge usage use
used useful useless usual utensil utility vacant vacation vacuum vague valid valley valuable valve
van vanilla vanish vapor variable various vast vault vegetable vehicle velocity velvet vendor
venture venue verb verdict verify version vertical very vessel veteran veterinary viable vibrant
vicious victim victory video view village vinegar vintage violence violet violin virtual virus visa
visit visitor visual vital vitamin vivid vocabulary vocal voice void volcano volume volunteer vote
voyage wage wagon wait waiter waitress walk wall walnut want wardrobe warehouse warfare warm warning
warrior wash wasp waste water waterfall watermelon wave wavelength way weakness wealth weapon wear
weasel weather web wedding wednesday weekday weekend weird welcome welfare west wet whale what wheat
wheel wheelchair when whenever where whip whisper whistle wide width wife wild wildlife will win
windmill window windshield wine wing wink winner winter wire wireless wisdom wise wish withdraw
witness wolf woman wonder wood woodland wool word work workshop world worry worth wrap wreck wrestle
wrestler wrist write wrong yacht yard year yearbook yellow yesterday yogurt you young yourself youth
zebra zero zone zoo
"""

ENGLISH_WORDS: tuple[str, ...] = tuple(_WORDS.split())
